# Input kind catalog (pipeline/inputs/catalog.py): rows straight from the group catalogs,
# no snapshot read (pipeline/ingest/catalog.py).
include: "camels_files.smk"


from pipeline.inputs.catalog import catalog_columns_read


# input kind catalog: each group catalog -> its rows, no snapshot read
rule ingest_catalog:
    input:
        catalog=ingest_inputs()["catalog"],
    output:
        halos=HALO_TABLE,
    params:
        options=shell_json({**config["catalog"], "environment": config["ingest"]["environment"]}),
        columns=" ".join(catalog_columns_read(STUDY_RECORD)),
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
