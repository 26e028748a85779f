"""Discovery of low-scatter astrophysical scaling relations from cosmological simulations.

One package per rule file (``rules/<stage>.smk`` <-> ``pipeline/<stage>/``), each stage a plain
function with a thin CLI in :mod:`pipeline.cli`: ``mock`` -> ``ingest`` (+ ``assemble``) ->
``radial_profiles`` (optional) -> ``discovery`` (``rank`` -> ``sr`` -> ``evaluate``) -> ``report``.
File formats live in :mod:`pipeline.io`, formulas in :mod:`pipeline.physics`.
"""

__version__ = "0.1.0"
