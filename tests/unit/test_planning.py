"""The planning process's settings: the garbage collector's threshold is raised, never lowered,
and the rule files set it when Snakemake parses them."""

import gc

from conftest import REPO

from pipeline.planning import GC_YOUNG_THRESHOLD, raise_gc_threshold


def test_gc_threshold_is_raised_never_lowered():
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        assert raise_gc_threshold() == (700, 10, 10)
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
        gc.set_threshold(50_000, 5, 7)  # a process that already collects less often keeps it
        raise_gc_threshold()
        assert gc.get_threshold() == (50_000, 5, 7)
    finally:
        gc.set_threshold(*saved)


def test_rule_files_raise_it():
    text = (REPO / "pipeline" / "rules" / "common.smk").read_text()
    assert "\nraise_gc_threshold()\n" in text
