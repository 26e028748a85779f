"""The rule files' conventions: the planning process's garbage-collector threshold is raised,
never lowered, when Snakemake parses them; every rule states its resources, and the cluster
profile restates none."""

import gc
import re

import yaml
from conftest import REPO

from pipeline.rules.planning import GC_YOUNG_THRESHOLD, raise_gc_threshold


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


def test_every_rule_states_its_resources_and_the_profile_restates_none():
    """Per-rule memory and run time live in one place, the rules: a cluster run asks for what a
    local run plans with (the profile once said 2000 MB for ingest where the rule said 2500)."""
    rules_dir = REPO / "pipeline" / "rules"
    rules = 0
    for path in sorted(rules_dir.rglob("*.smk")):
        # each rule's body: from 'rule name:' to the next rule (or the end of the file)
        for name, body in re.findall(r"^\s*rule (\w+):\n(.*?)(?=^\s*rule \w+:|\Z)",
                                     path.read_text(), flags=re.S | re.M):
            if name == "all":
                continue
            rules += 1
            for key in ("threads:", "resources:", "mem_mb=", "runtime=", "log:", "benchmark:"):
                assert key in body, f"{path.name}: rule {name} has no {key}"
    assert rules >= 10
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    assert "set-resources" not in profile
    assert set(profile.get("default-resources", {})) <= {"mem_mb", "runtime"}
