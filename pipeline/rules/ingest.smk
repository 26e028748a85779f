# Ingest: one job per (suite, simulation, snapshot) -> per-halo table with units; for stacked
# profiles one job per suite (each stack is small).

if IS_PROFILES:

    rule ingest_profiles:
        input:
            profile_files,
        output:
            f"{RES}/halos/{{suite}}/profiles.h5",
        params:
            cli=CLI,
            root=DATA["root"],
            options=lambda wc: as_json(
                {
                    "sims": DATA["suites"][wc.suite],
                    "snapshots": SNAPSHOTS,
                    "profiles": config["profiles"],
                }
            ),
        log:
            f"{RES}/logs/ingest_profiles/{{suite}}.log",
        benchmark:
            f"{RES}/benchmarks/ingest_profiles/{{suite}}.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,
            runtime=20,
        shell:
            "{params.cli} ingest-profiles --root {params.root:q} --suite {wildcards.suite} "
            "--options {params.options:q} --out {output} > {log} 2>&1"


rule ingest:
    input:
        snapshot=snapshot_files,
        catalog=catalog_files,
        params=params_file,
    output:
        f"{RES}/halos/{{suite}}/{{sim}}_{{snap}}.h5",
    params:
        cli=CLI,
        options=as_json(config["ingest"]),
        snapshot=lambda wc: layout.snapshot_path(DATA, wc.suite, wc.sim, int(wc.snap)),
        catalog=lambda wc: layout.catalog_path(DATA, wc.suite, wc.sim, int(wc.snap)),
        params_arg=lambda wc, input: f"--params-file {input.params}" if input.params else "",
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
        "{params.cli} ingest --snapshot {params.snapshot} --catalog {params.catalog} "
        "--suite {wildcards.suite} --sim {wildcards.sim} --snap {wildcards.snap} "
        "{params.params_arg} --options {params.options:q} --out {output} > {log} 2>&1"


rule assemble:
    input:
        halo_tables(),
    output:
        f"{RES}/halos.h5",
    params:
        cli=CLI,
        options=as_json(config["selection"]),
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
        "{params.cli} assemble --inputs {input} --options {params.options:q} "
        "--out {output} > {log} 2>&1"
