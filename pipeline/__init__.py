"""Discovery of low-scatter astrophysical scaling relations from cosmological simulations.

One package per rule file (``rules/<stage>.smk`` <-> ``pipeline/<stage>/``), each stage a plain
function with a thin job command in :mod:`pipeline.jobs` (a user's commands in
:mod:`pipeline.cli`): ``mock`` -> ``ingest`` (+ ``assemble``) ->
``radial_profiles`` (optional) -> ``discovery`` (``rank`` -> ``sr`` -> ``evaluate``) -> ``report``.
File formats live in :mod:`pipeline.io`, formulas in :mod:`pipeline.physics`, the column registry
in :mod:`pipeline.columns`, the compiled particle kernels in :mod:`pipeline.particles`.

Imports run one way (``tests/unit/test_imports.py`` fails on any other), floors lowest first:
``errors``, ``provenance`` -> ``io``, ``physics``, ``samples``, ``defaults`` -> ``columns``,
``particles`` -> ``inputs`` (the input kinds) -> ``config`` -> the stages in pipeline order
(``ingest`` -> ``radial_profiles`` -> ``discovery`` -> ``report``; ``mock`` beside them, read by no
stage) -> ``study`` -> ``cli`` and ``rules`` (the rule files, and the settings of the process that
parses them).
"""

__version__ = "0.1.0"
