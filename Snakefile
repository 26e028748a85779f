# Scaling-relation discovery: simulation outputs -> halo tables -> ranking -> symbolic regression
# -> held-out evaluation -> reports/<study>/report.pdf. The rules live in pipeline/rules/.
from snakemake.utils import min_version

min_version("8.0")


# The default study; a study given with --configfile replaces it rather than being merged into it
# (Snakemake would otherwise update the default's nested mappings, e.g. add its mock suites).
if not workflow.overwrite_configfiles:
    from snakemake.exceptions import WorkflowError

    from pipeline.config import read_yaml_file
    from pipeline.errors import ConfigError

    try:  # Snakemake's own message names neither the file nor the line of a YAML error
        read_yaml_file("config.yaml")
    except ConfigError as exc:
        raise WorkflowError(str(exc)) from None

    configfile: "config.yaml"


report: "pipeline/report/captions/workflow.rst"


include: "pipeline/rules/common.smk"
include: "pipeline/rules/mock.smk"
include: "pipeline/rules/ingest.smk"
include: "pipeline/rules/discovery.smk"
include: "pipeline/rules/report.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
