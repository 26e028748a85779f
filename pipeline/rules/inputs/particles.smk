# Input kind particles (pipeline/inputs/particles.py): haloes measured from particle
# snapshots and group catalogs (pipeline/ingest/particles.py).
include: "camels_files.smk"


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
