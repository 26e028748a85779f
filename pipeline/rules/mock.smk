# The embedded mock: parameter files and simulations in the CAMELS on-disk layout.
if IS_MOCK:
    # the mock writes into <data.root>/<key of its configuration>: studies that want other mocks
    # never regenerate each other's inputs; data.root must hold nothing but mocks
    from pipeline.mock.root import MARKER, check_mock_root, mock_key

    _mock_sets = {}
    for _suite, _volume, _set, _sim, _snap in SOURCES:
        _mock_sets.setdefault(f"{_suite}/{_volume}/{_set}", []).append(_sim)
    MOCK_KEY = mock_key(config["mock"], {k: list(dict.fromkeys(v)) for k, v in _mock_sets.items()})
    try:
        check_mock_root(DATA["root"], MOCK_KEY)
    except ConfigError as exc:
        raise WorkflowError(str(exc)) from None
    MOCK_ROOT = os.path.join(DATA["root"], MOCK_KEY)
    DATA = {**DATA, "root": MOCK_ROOT}  # the paths of every rule; config keeps the user's data.root
    MOCK_MARKER = os.path.join(MOCK_ROOT, MARKER)
    # what the mock's jobs share beyond their outputs (the halo mass function per cosmology)
    MOCK_CACHE = os.path.join(MOCK_ROOT, "_cache")

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
