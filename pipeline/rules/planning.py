"""Settings of the Snakemake process that plans and schedules a study (not of its jobs).

Planning a large study allocates millions of small objects (Snakemake's jobs, files and
wildcards). At CPython's default thresholds (700, 10, 10) the cyclic garbage collector walks
them again and again: about a tenth of a dry run of 6000 snapshots (``bench/dag.py``, which also
times its minimal Snakefile with the same setting). The rule files raise the youngest
generation's threshold when they are parsed.
"""

from __future__ import annotations

import gc

__all__ = ["GC_YOUNG_THRESHOLD", "raise_gc_threshold"]

#: allocations between two collections of the youngest generation (CPython's default: 700).
#: The peak memory of a 6000-snapshot dry run stays the same (242 MB against 247 MB).
GC_YOUNG_THRESHOLD = 10_000


def raise_gc_threshold(young: int = GC_YOUNG_THRESHOLD) -> tuple[int, ...]:
    """Collect the youngest generation every ``young`` allocations, or less often where the
    process already does (a threshold is raised, never lowered); the older generations' are
    kept. Returns the thresholds before."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], young), *before[1:])
    return before
