# Profile stage: stacked radial gas profiles per (suite, volume, set, simulation, snapshot) from particles, in
# the bins and units of the CAMELS emu stacks, then one table of all of them. Not for data.kind =
# stacks (those are stacked profiles already).
if not IS_STACKS and config["radial_profiles"]["enabled"]:

    rule radial_profiles:
        input:
            **ingest_inputs(),
        output:
            f"{RES}/radial_profiles/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.h5",
        params:
            cli=CLI,
            options=as_json(
                {
                    **{
                        k: v
                        for k, v in config["radial_profiles"].items()
                        if k not in ("enabled", "reference_root")
                    },
                    "star_forming_gas": config["star_forming_gas"],
                }
            ),
        log:
            f"{RES}/logs/radial_profiles/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.log",
        benchmark:
            f"{RES}/benchmarks/radial_profiles/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=2500,
            runtime=30,
        shell:
            "{params.cli} radial-profiles --snapshot {input.snapshot:q} "
            "--catalog {input.catalog:q} --suite {wildcards.suite} --sim {wildcards.sim} "
            "--snap {wildcards.snap} --options {params.options:q} --out {output} > {log} 2>&1"

    rule gather_radial_profiles:
        input:
            radial_profile_tables(),
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
