# The embedded mock: parameter files and simulations in the CAMELS on-disk layout.
if IS_MOCK:

    # a one-line marker file: written where snakemake runs, never a cluster job
    localrules:
        mock_root,

    rule mock_root:
        output:
            MOCK_MARKER,
        params:
            cli=CLI,
            seed=config["mock"]["seed"],
        log:
            f"{RES}/logs/mock_root.log",
        benchmark:
            f"{RES}/benchmarks/mock_root.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=200,
            runtime=2,
        shell:
            "{params.cli} mock-root --seed {params.seed} --out {output} > {log} 2>&1"

    rule mock_params:
        input:
            MOCK_MARKER,
        output:
            layout.params_path(DATA, "{suite}"),
        params:
            cli=CLI,
            options=lambda wc: as_json(
                {
                    "sims": DATA["suites"][wc.suite],
                    "parameter_ranges": config["mock"]["parameter_ranges"],
                    "seed": config["mock"]["seed"],
                }
            ),
        log:
            f"{RES}/logs/mock_params/{{suite}}.log",
        benchmark:
            f"{RES}/benchmarks/mock_params/{{suite}}.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=500,
            runtime=5,
        shell:
            "{params.cli} mock-params --suite {wildcards.suite} "
            "--options {params.options:q} --out {output} > {log} 2>&1"

    rule mock_sim:
        input:
            params=layout.params_path(DATA, "{suite}"),
        output:
            snapshots=[layout.snapshot_path(DATA, "{suite}", "{sim}", s) for s in SNAPSHOTS],
            catalogs=[layout.catalog_path(DATA, "{suite}", "{sim}", s) for s in SNAPSHOTS],
            truth=[layout.truth_path(DATA, "{suite}", "{sim}", s) for s in SNAPSHOTS],
        params:
            cli=CLI,
            options=as_json(
                {**config["mock"], "snapshots": SNAPSHOTS}
            ),
        log:
            f"{RES}/logs/mock_sim/{{suite}}/{{sim}}.log",
        benchmark:
            f"{RES}/benchmarks/mock_sim/{{suite}}/{{sim}}.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        shell:
            "{params.cli} mock-sim --suite {wildcards.suite} --sim {wildcards.sim} "
            "--params-file {input.params} --options {params.options:q} "
            "--snapshot-out {output.snapshots} --catalog-out {output.catalogs} "
            "--truth-out {output.truth} > {log} 2>&1"
