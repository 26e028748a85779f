# Input kind stacks (pipeline/inputs/stacks.py): stacked-profile files, listed once per
# (root, suite), measured in blocks of simulations cached across studies
# (pipeline/ingest/stacks.py).
include: "stacks_listing.smk"


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
