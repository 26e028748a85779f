# Ingest: one job per (suite, simulation, snapshot) -> per-halo table with units; for stacked
# profiles (input kind stacks) one job per suite (each stack is small).

if IS_STACKS:

    rule ingest_stacks:
        input:
            stack_input_files,
        output:
            f"{RES}/halos/{{suite}}/stacks.h5",
        params:
            cli=CLI,
            root=DATA["root"],
            options=lambda wc: as_json(
                {
                    "sims": DATA["suites"][wc.suite],
                    "snapshots": SNAPSHOTS,
                    "stacks": config["stacks"],
                }
            ),
        log:
            f"{RES}/logs/ingest_stacks/{{suite}}.log",
        benchmark:
            f"{RES}/benchmarks/ingest_stacks/{{suite}}.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,
            runtime=20,
        shell:
            "{params.cli} ingest-stacks --root {params.root:q} --suite {wildcards.suite} "
            "--options {params.options:q} --out {output} > {log} 2>&1"


rule ingest:
    input:
        **ingest_inputs(),
    output:
        f"{RES}/halos/{{suite}}/{{sim}}_{{snap}}.h5",
    params:
        cli=CLI,
        options=as_json({**config["ingest"], "star_forming_gas": config["star_forming_gas"]}),
    log:
        f"{RES}/logs/ingest/{{suite}}/{{sim}}_{{snap}}.log",
    benchmark:
        f"{RES}/benchmarks/ingest/{{suite}}/{{sim}}_{{snap}}.tsv"
    conda:
        ENV
    threads: config["ingest"]["threads"]
    resources:
        mem_mb=2500,
        runtime=30,
    shell:
        "{params.cli} ingest --snapshot {input.snapshot:q} --catalog {input.catalog:q} "
        "--suite {wildcards.suite} --sim {wildcards.sim} --snap {wildcards.snap} "
        "--options {params.options:q} --out {output} > {log} 2>&1"


rule assemble:
    input:
        tables=halo_tables(),
        params=list(suite_params_files().values()),
    output:
        f"{RES}/halos.h5",
    params:
        cli=CLI,
        options=as_json(config["selection"]),
        params_files=" ".join(
            shlex.quote(f"{suite}={path}") for suite, path in suite_params_files().items()
        ),
    log:
        f"{RES}/logs/assemble.log",
    benchmark:
        f"{RES}/benchmarks/assemble.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "{params.cli} assemble --inputs {input.tables} --params-files {params.params_files} "
        "--options {params.options:q} --out {output} > {log} 2>&1"
