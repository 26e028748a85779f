# Scaling-relation discovery: simulation outputs -> halo tables -> ranking -> symbolic regression
# -> held-out evaluation -> reports/<study>/report.pdf. The rules live in pipeline/rules/.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config.yaml"


include: "pipeline/rules/common.smk"
include: "pipeline/rules/mock.smk"
include: "pipeline/rules/ingest.smk"
include: "pipeline/rules/discovery.smk"
include: "pipeline/rules/report.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
