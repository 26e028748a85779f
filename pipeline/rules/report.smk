# The PDF report of the study.


rule report:
    input:
        halos=f"{RES}/halos.h5",
        rank=expand(f"{RES}/rank/{{target}}.ecsv", target=TARGETS),
        sr=[sr_table(t) for t in TARGETS],
        evaluate=expand(f"{RES}/evaluate/{{target}}.ecsv", target=TARGETS),
        residuals=expand(f"{RES}/evaluate/{{target}}_residuals.h5", target=TARGETS),
        per_sim=expand(f"{RES}/evaluate/{{target}}_per_sim.ecsv", target=TARGETS),
        radial_profiles=gathered_radial_profiles(),
        profiles_figure=profiles_figure(),
    output:
        report(f"reports/{STUDY}/report.pdf", caption=f"{CAPTIONS}/report_pdf.rst",
               category="Report"),
    params:
        cli=CLI,
        options=as_json({**config, "samples": samples_for_jobs()}),
    log:
        f"{RES}/logs/report.log",
    benchmark:
        f"{RES}/benchmarks/report.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "{params.cli} report --halos {input.halos} --rank {input.rank} "
        "--sr {input.sr} --evaluate {input.evaluate} --residuals {input.residuals} "
        "--per-sim {input.per_sim} --radial-profiles {input.radial_profiles} "
        "--profiles-figure {input.profiles_figure} --options {params.options:q} "
        "--out {output} > {log} 2>&1"


if PROFILES_ON:

    # the profile figure needs only the profile stage's table: drawn beside the discovery stages
    rule report_profiles:
        input:
            gathered_radial_profiles(),
        output:
            report(f"{ASSETS}/profiles.svg", caption=f"{CAPTIONS}/profiles.rst",
                   category="Profiles"),
        params:
            cli=CLI,
            options=as_json({"data": {"kind": DATA["kind"]},
                             "radial_profiles": {"reference_root":
                                                 config["radial_profiles"]["reference_root"]}}),
        log:
            f"{RES}/logs/report_profiles.log",
        benchmark:
            f"{RES}/benchmarks/report_profiles.tsv"
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        shell:
            "{params.cli} report-profiles --radial-profiles {input} "
            "--options {params.options:q} --out {output} > {log} 2>&1"


rule report_assets:
    input:
        rank=f"{RES}/rank/{{target}}.ecsv",
        sr=lambda wc: sr_table(wc.target),
        evaluate=f"{RES}/evaluate/{{target}}.ecsv",
        residuals=f"{RES}/evaluate/{{target}}_residuals.h5",
        per_sim=f"{RES}/evaluate/{{target}}_per_sim.ecsv",
    output:
        **{
            name.replace(".", "_"): report(
                f"{ASSETS}/{{target}}/{name}",
                caption=f"{CAPTIONS}/{name.split('.')[0]}.rst",
                category="{target}",
                subcategory="tables" if name.endswith(".csv") else "figures",
            )
            for name in ASSET_FILES
        },
    params:
        cli=CLI,
        out_dir=lambda wc: f"{ASSETS}/{wc.target}",
        options=lambda wc: as_json(
            {"target": wc.target,
             "samples": list(config["train"]) + list(config["holdout"])}
        ),
    log:
        f"{RES}/logs/report_assets/{{target}}.log",
    benchmark:
        f"{RES}/benchmarks/report_assets/{{target}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "{params.cli} report-assets --rank {input.rank} --sr {input.sr} "
        "--evaluate {input.evaluate} --residuals {input.residuals} --per-sim {input.per_sim} "
        "--options {params.options:q} --out-dir {params.out_dir} > {log} 2>&1"
