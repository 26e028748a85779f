# Discovery for each target: rank features, symbolic regression, held-out evaluation.


rule rank:
    input:
        halos=f"{RES}/halos.h5",
    output:
        f"{RES}/rank/{{target}}.ecsv",
    params:
        cli=CLI,
        options=lambda wc: as_json(
            {
                "target": target_config(wc.target),
                "features": target_features(wc.target),
                "train": config["train"],
                "rank": config["rank"],
            }
        ),
    log:
        f"{RES}/logs/rank/{{target}}.log",
    benchmark:
        f"{RES}/benchmarks/rank/{{target}}.tsv"
    conda:
        ENV
    threads: config["rank"]["threads"]
    resources:
        mem_mb=2000,  # measured 0.21 GB, 8 s for 618 haloes; grows with haloes x trees
        runtime=30,
    shell:
        "{params.cli} rank --halos {input.halos} --options {params.options:q} "
        "--out {output} > {log} 2>&1"


if config["sr"]["compare_slope_constraint"]:

    # both slope constraints of a target in one job: the two searches side by side on its
    # threads (one process start, and no core left idle while 3 seeds share 2 threads)
    rule sr:
        input:
            halos=f"{RES}/halos.h5",
            rank=f"{RES}/rank/{{target}}.ecsv",
        output:
            fixed=f"{RES}/sr/{{target}}.fixed.ecsv",
            free=f"{RES}/sr/{{target}}.free.ecsv",
        params:
            cli=CLI,
            options=sr_job_options,
        log:
            f"{RES}/logs/sr/{{target}}.log",
        benchmark:
            f"{RES}/benchmarks/sr/{{target}}.tsv"
        conda:
            ENV
        threads: config["sr"]["threads"]
        resources:
            mem_mb=3000,  # measured 0.23 GB; the time is bounded by sr.time_budget_s per seed
            runtime=lambda wc: 10 + 2 * len(config["sr"]["seeds"]) * config["sr"]["time_budget_s"] // 60,
        shell:
            "{params.cli} sr --halos {input.halos} --rank {input.rank} --slope fixed free "
            "--options {params.options:q} --out {output.fixed} {output.free} > {log} 2>&1"

else:

    rule sr:
        input:
            halos=f"{RES}/halos.h5",
            rank=f"{RES}/rank/{{target}}.ecsv",
        output:
            f"{RES}/sr/{{target}}.{{slope}}.ecsv",
        params:
            cli=CLI,
            options=sr_job_options,
        log:
            f"{RES}/logs/sr/{{target}}.{{slope}}.log",
        benchmark:
            f"{RES}/benchmarks/sr/{{target}}.{{slope}}.tsv"
        conda:
            ENV
        threads: config["sr"]["threads"]
        resources:
            mem_mb=3000,  # measured 0.23 GB; the time is bounded by sr.time_budget_s per seed
            runtime=lambda wc: 10 + len(config["sr"]["seeds"]) * config["sr"]["time_budget_s"] // 60,
        shell:
            "{params.cli} sr --halos {input.halos} --rank {input.rank} --slope {wildcards.slope} "
            "--options {params.options:q} --out {output} > {log} 2>&1"


rule evaluate:
    input:
        halos=f"{RES}/halos.h5",
        sr=lambda wc: sr_table(wc.target),
        sr_alt=lambda wc: sr_alternative(wc.target),
        truth=mock_truth_tables(),
    output:
        scatter=f"{RES}/evaluate/{{target}}.ecsv",
        residuals=f"{RES}/evaluate/{{target}}_residuals.h5",
        per_sim=f"{RES}/evaluate/{{target}}_per_sim.ecsv",
        relation=f"{RELATIONS}/{{target}}.json",
    params:
        cli=CLI,
        alternative=lambda wc, input: (
            f"--sr-alternative {input.sr_alt}" if input.sr_alt else ""
        ),
        options=lambda wc: as_json(
            {
                "target": target_config(wc.target),
                "train": config["train"],
                "holdout": config["holdout"],
                "evaluate": config["evaluate"],
                "study": STUDY,
                "columns_config": columns_config(),
            }
        ),
    log:
        f"{RES}/logs/evaluate/{{target}}.log",
    benchmark:
        f"{RES}/benchmarks/evaluate/{{target}}.tsv"
    conda:
        ENV
    threads: config["evaluate"]["threads"]
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "{params.cli} evaluate --halos {input.halos} --sr {input.sr} {params.alternative} "
        "--options {params.options:q} --out {output.scatter} "
        "--residuals {output.residuals} --per-sim {output.per_sim} --truth {input.truth} "
        "--relation {output.relation} > {log} 2>&1"
