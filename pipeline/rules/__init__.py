"""The workflow's rule files (``*.smk``, included by the Snakefile) and the Python that tunes the
Snakemake process parsing them (:mod:`pipeline.rules.planning`). On the top floor, with the
command line: the rule files may import any part of the pipeline."""
