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
            layout.wildcard_pattern(DATA, "params"),
        params:
            cli=CLI,
            options=lambda wc: as_json(
                {
                    "sims": compact_ranges(set_sims(wc.suite, wc.volume, wc.simset)),
                    "parameter_ranges": config["mock"]["parameter_ranges"],
                    "seed": config["mock"]["seed"],
                    # the LH set keeps the seeding of the mock before samples (same tables)
                    "stream": wc.suite if wc.simset == "LH" else f"{wc.suite}/{wc.simset}",
                }
            ),
        log:
            f"{RES}/logs/mock_params/{{suite}}_{{volume}}_{{simset}}.log",
        benchmark:
            f"{RES}/benchmarks/mock_params/{{suite}}_{{volume}}_{{simset}}.tsv"
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
            params=layout.wildcard_pattern(DATA, "params"),
        output:
            snapshots=mock_output_files("snapshot"),
            catalogs=mock_output_files("catalog"),
            truth=layout.wildcard_pattern(DATA, "truth"),
        params:
            cli=CLI,
            options=lambda wc: as_json(
                {
                    **{k: v for k, v in config["mock"].items() if k != "redshifts"},
                    "snapshots": [int(wc.snap)],
                    "redshifts": [config["mock"]["redshifts"][int(wc.snap)]],
                }
            ),
            # the halo mass function of each (cosmology, redshift), computed once for the mock
            cache=MOCK_CACHE,
        log:
            f"{RES}/logs/mock_sim/{{suite}}_{{volume}}_{{simset}}/{{sim}}_{{snap}}.log",
        benchmark:
            f"{RES}/benchmarks/mock_sim/{{suite}}_{{volume}}_{{simset}}/{{sim}}_{{snap}}.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,  # measured 0.36 GB, 4 s (default study)
            runtime=10,
        shell:
            "{params.cli} mock-sim --suite {wildcards.suite} --sim {wildcards.sim} "
            "--params-file {input.params} --options {params.options:q} "
            "--snapshot-out {output.snapshots} --catalog-out {output.catalogs} "
            "--truth-out {output.truth} --cache-dir {params.cache:q} > {log} 2>&1"
