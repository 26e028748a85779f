# Profile stage: stacked radial gas profiles per (suite, volume, set, simulation, snapshot) from
# particles, in the bins and units of the CAMELS emu stacks, measured by the ingest job in its one
# pass over the snapshot and kept in its file (rule ingest); here, one table of all of them. Not
# for data.kind = stacks (those are stacked profiles already).
if PROFILES_ON:

    rule gather_radial_profiles:
        input:
            halo_tables(),
        output:
            f"{RES}/radial_profiles.h5",
        params:
            cli=CLI,
        log:
            f"{RES}/logs/gather_radial_profiles.log",
        benchmark:
            f"{RES}/benchmarks/gather_radial_profiles.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        shell:
            "{params.cli} gather-radial-profiles --inputs {input} --out {output} > {log} 2>&1"
