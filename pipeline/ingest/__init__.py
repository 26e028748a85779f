"""Ingest stage (``rules/ingest.smk``): simulation outputs -> one table of haloes with units.

Takes a snapshot and its group catalog (:mod:`.particles`, with the compiled kernels of
:mod:`pipeline.particles`), or the stacked gas-profile files of input kind
``stacks`` (:mod:`.stacks`); gives per-halo tables, which :mod:`.assemble` joins into the study's
halo table with cuts, self-similar scalings and simulation parameters.
"""
