# Ingest: one job per (suite, volume, set, simulation, snapshot) -> per-halo table with units
# (and the snapshot's stacked radial profiles, read in the same pass, in the same file);
# stacked profiles (input kind stacks) in blocks of simulations, cached across studies; then
# assemble joins them into the study's halo table, one sample at a time (and, with the profile
# stage on, every snapshot's stacked profiles into one table).

# the input kind's rule file (pipeline/inputs/ names it): what it lists, its ingest rule, the
# tables assemble joins (halo_tables) and the parameter files (set_params_files)
include: KIND.rule_file


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
