# Input kind catalog (pipeline/inputs/catalog.py): rows straight from the group catalogs,
# no snapshot read (pipeline/ingest/catalog.py).
include: "camels_files.smk"


def catalog_columns_used():
    """The columns a catalog study reads (features, targets' x and y, the evaluation's bins):
    their catalog fields must exist; the rest are read where present."""
    used = {config["evaluate"]["bin_column"]}
    for t in config["targets"]:
        used |= {t["x"], t["y"], *target_features(t["name"])}
    from pipeline.columns import PER_ROW_COLUMNS
    from pipeline.columns.environment import EnvironmentOptions, environment_columns

    env = {c.name for c in environment_columns(EnvironmentOptions(**config["ingest"]["environment"]))}
    return sorted(used - env - set(PER_ROW_COLUMNS))


# input kind catalog: each group catalog -> its rows, no snapshot read
rule ingest_catalog:
    input:
        catalog=ingest_inputs()["catalog"],
    output:
        halos=HALO_TABLE,
    params:
        options=shell_json({**config["catalog"], "environment": config["ingest"]["environment"]}),
        columns=" ".join(catalog_columns_used()),
    log:
        f"{RES}/logs/ingest_catalog/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.log",
    benchmark:
        f"{RES}/benchmarks/ingest_catalog/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        f"{CLI_IN_SHELL} ingest-catalog --catalog {{input.catalog:q}} --source {{wildcards}} "
        "--columns {params.columns} --options {params.options} --out {output.halos} > {log} 2>&1"
