"""docs/results.md is generated from the studies' result tables: the page, the committed
snapshots and (where present) the tables cannot disagree."""

import json
import re

import pytest
from conftest import REPO

from pipeline.report.results_page import (
    NUMBER_IN_NOTE,
    load_snapshots,
    render_page,
    snapshot,
    study_files,
)

_RERUN = "rerun: python -m pipeline.report.results_page"


def test_results_page_is_what_the_snapshots_render():
    snapshots, notes = load_snapshots(REPO)
    assert (REPO / "docs" / "results.md").read_text() == render_page(snapshots, notes), _RERUN


def test_every_shipped_study_has_a_snapshot_and_a_note():
    names = set(study_files(REPO))
    assert "mock-demo" in names and len(names) >= 10
    folder = REPO / "docs" / "results"
    assert {p.stem for p in folder.glob("*.json")} == names, _RERUN
    assert {p.stem for p in folder.glob("*.md")} == names


def test_notes_carry_no_measured_number():
    """Hand-written prose beside generated numbers goes stale: a measured number (a decimal, a
    percentage, dex) in a note fails; configuration values in backticks are allowed."""
    for path in sorted((REPO / "docs" / "results").glob("*.md")):
        prose = re.sub(r"`[^`]*`", "", path.read_text())
        assert not NUMBER_IN_NOTE.search(prose), (path.name, NUMBER_IN_NOTE.findall(prose))


def test_note_number_check_catches_stale_numbers():
    for stale in ("scatter 0.092 dex", "a reduction of 45%", "falls by 3 dex", "R^2 0.74"):
        assert NUMBER_IN_NOTE.search(stale), stale
    for fine in ("the 1P set", "five targets", "44 simulations", "LH_0 to LH_999"):
        assert not NUMBER_IN_NOTE.search(fine), fine


@pytest.mark.parametrize("study", sorted(study_files(REPO)))
def test_snapshot_matches_the_study_tables_where_present(study):
    """Where a study's results are at hand (after running it), the committed snapshot is what its
    tables say now: the page cannot quote numbers a rerun no longer gives."""
    results = REPO / "results" / study
    if not (results / "evaluate").is_dir():
        pytest.skip(f"results/{study} not present (run the study to check its page numbers)")
    committed = json.loads((REPO / "docs" / "results" / f"{study}.json").read_text())
    fresh = json.loads(json.dumps(snapshot(results, committed["file"]), ensure_ascii=False))
    assert fresh == committed, _RERUN


def test_page_renders_equation_constants_and_rows():
    snap = {"study": "toy", "file": "studies/toy.yaml", "settings": {"sr.seeds": [0]},
            "targets": [{"name": "M_from_Y", "y": "log10_M200c", "x": "log10_Y200c_ss",
                         "slope": 0.6, "train": ["A"], "features": ["c_gas"],
                         "template": "_c0 + _c1*c_gas", "recommended": True,
                         "constants": [{"name": "c_0", "value": 17.234, "error": 0.032},
                                       {"name": "c_1", "value": 0.42, "error": 0.9}],
                         "rows": [{"sample": "B", "relation": "discovered", "n_halos": 10,
                                   "n_sims": 2, "n_diverged": 1, "scatter": 0.1,
                                   "scatter_lo68": 0.09, "scatter_hi68": 0.11,
                                   "reduction": 0.5, "reduction_lo95": 0.25,
                                   "reduction_hi95": 0.75}]}]}
    page = render_page([snap], {"toy": "A note."})
    assert "`log10_M200c = 0.6 log10_Y200c_ss + f`" in page
    assert "`f = c0 + c1*c_gas`" in page
    assert "c0 = 17.23(3); c1 = 0.420 (undetermined)." in page
    assert "| B | **discovered** | 10 (2) | 0.100 [0.090, 0.110] | 50% [25, 75] | 1 |" in page
    assert "A note." in page and "`sr.seeds: [0]`" in page


def test_readme_table_and_results_page_quote_the_same_numbers():
    """The README's table and the results page come from the same evaluate table: a value
    rounded twice (0.1545 -> 0.154 against 0.155) made them disagree."""
    from pipeline.report.readme import read_rows

    snapshot = json.loads((REPO / "docs" / "results" / "mock-demo.json").read_text())
    page = {(t["name"], r["sample"], r["relation"]): r for t in snapshot["targets"] for r in t["rows"]}
    rows = read_rows(REPO / "docs" / "default_study.csv")
    assert rows
    for row in rows:
        mine = page[(row["target"], row["sample"], row["relation"])]
        assert f"{float(row['scatter_log']):.3f}" == f"{mine['scatter']:.3f}", row
        assert f"{100 * float(row['reduction_log']):.0f}" == f"{100 * mine['reduction']:.0f}", row
