# The PDF report of the study.


rule report:
    input:
        halos=f"{RES}/halos.h5",
        rank=expand(f"{RES}/rank/{{target}}.ecsv", target=TARGETS),
        sr=expand(f"{RES}/sr/{{target}}.ecsv", target=TARGETS),
        evaluate=expand(f"{RES}/evaluate/{{target}}.ecsv", target=TARGETS),
        residuals=expand(f"{RES}/evaluate/{{target}}_residuals.h5", target=TARGETS),
    output:
        f"reports/{STUDY}/report.pdf",
    params:
        cli=CLI,
        options=as_json(config),
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
        "--options {params.options:q} "
        "--out {output} > {log} 2>&1"
