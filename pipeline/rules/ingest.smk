# Ingest: one job per (suite, volume, set, simulation, snapshot) -> per-halo table with units
# (and the snapshot's stacked radial profiles, read in the same pass, in the same file);
# stacked profiles (input kind stacks) in blocks of simulations, cached across studies; then
# assemble joins them into the study's halo table, one sample at a time (and, with the profile
# stage on, every snapshot's stacked profiles into one table).

if IS_STACKS:

    rule ingest_stacks:
        input:
            stack_block_files,
        output:
            "results/_stacks/{cache}/{suite}/{block}.h5",
        params:
            cli=CLI,
            root=lambda wc: ROOT_OF_CACHE[wc.cache],
            sims=lambda wc: " ".join(compact_ranges(stack_block_sims(wc))),
            options=as_json(STACK_OPTIONS),
        log:
            "results/_stacks/{cache}/logs/{suite}/{block}.log",
        benchmark:
            "results/_stacks/{cache}/benchmarks/{suite}/{block}.tsv"
        conda:
            ENV
        threads: 1
        # one block of stacked-profile files (stacks.block_size simulations), ~2.5 ms per file
        resources:
            mem_mb=1000,
            runtime=20,
        shell:
            "{params.cli} ingest-stacks --root {params.root:q} --suite {wildcards.suite} "
            "--sims {params.sims} --options {params.options:q} --out {output} > {log} 2>&1"


if IS_CATALOG:

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


if not IS_STACKS and not IS_CATALOG:

    # one pass over each snapshot: the halo table and, with the profile stage on, the stacked
    # radial profiles (pipeline/radial_profiles/) from the same gas chunks
    rule ingest:
        input:
            **ingest_inputs(),
        output:
            halos=HALO_TABLE,
        params:
            # one JSON (with the profile stage's options inside) and no function of the job:
            # at CAMELS LH size (thousands of jobs) Snakemake formats each field and inspects
            # each params function in every job, which dominates planning the study
            options=shell_json(
                {
                    **config["ingest"],
                    "star_forming_gas": config["star_forming_gas"],
                    **({"profile_options": PROFILE_OPTIONS} if PROFILES_ON else {}),
                }
            ),
        log:
            f"{RES}/logs/ingest/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.log",
        benchmark:
            f"{RES}/benchmarks/ingest/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.tsv"
        conda:
            ENV
        threads: config["ingest"]["threads"]
        # measured: 0.25 GB and 2.5 s (mock, with profiles); 0.51 GB and ~3 s + read time for a
        # 2x256^3 CAMELS snapshot (1.9 GB): memory is bounded by ingest.chunk_particles, not by the
        # snapshot, plus a k-d tree over one gas chunk for the profiles
        resources:
            mem_mb=2000,
            runtime=30,
        shell:
            f"{CLI_IN_SHELL} ingest --snapshot {{input.snapshot:q}} --catalog {{input.catalog:q}} "
            "--source {wildcards} --options {params.options} "
            "--out {output.halos} > {log} 2>&1"


rule assemble:
    input:
        tables=halo_tables(),
        params=list(set_params_files().values()),
    output:
        halos=f"{RES}/halos.h5",
        # with the profile stage on, the stacked profiles of every snapshot in one table, from
        # the same ingest files: a second rule reading them would double what Snakemake plans
        # per snapshot (bench/dag.py)
        **({"profiles": gathered_radial_profiles()[0]} if PROFILES_ON else {}),
    params:
        cli=CLI,
        options=as_json(
            {
                "selection": config["selection"],
                "samples": samples_for_jobs(),
                "sample_order": list(SAMPLES),  # the JSON options sort the mapping's keys
                "min_halos": config["stacks"]["min_halos"],
                "omega_b": DATA["omega_b"],
                "inputs_missing": MISSING_REPORT,
            }
        ),
        params_files=" ".join(
            shlex.quote(f"{key}={path}") for key, path in set_params_files().items()
        ),
    log:
        f"{RES}/logs/assemble.log",
    benchmark:
        f"{RES}/benchmarks/assemble.tsv"
    conda:
        ENV
    threads: 2 if PROFILES_ON else 1  # the profiles are joined beside the haloes
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "{params.cli} assemble --inputs {input.tables} --params-files {params.params_files} "
        "--options {params.options:q} --out {output.halos} "
        + ("--profiles-out {output.profiles} --threads {threads} " if PROFILES_ON else "")
        + "> {log} 2>&1"
