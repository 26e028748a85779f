"""The transfer benchmark's planted setups and its last line (bench/transfer.py)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "transfer_bench", Path(__file__).resolve().parents[2] / "bench" / "transfer.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules["transfer_bench"] = bench
_spec.loader.exec_module(bench)


def test_the_planted_setups_are_what_the_docstring_says():
    rng = np.random.default_rng(0)
    a, b, c = (bench._code(rng, "decoy_one_code", code) for code in "ABC")
    # the decoy corrects the relation in code A only
    slope_d = [np.polyfit(t["d"], t["y"] - 0.6 * t["x"] + 0.5 * t["p"], 1)[0] for t in (a, b, c)]
    assert abs(slope_d[0] - 0.3) < 0.05 and abs(slope_d[1]) < 0.05 and abs(slope_d[2]) < 0.05
    held = bench._code(rng, "wider_range", "C")
    assert held["d"].max() > 1.2 and bench._code(rng, "wider_range", "A")["d"].max() <= 1.0
    gap = bench._code(rng, "clustered", "A")["p"]
    assert not np.any((gap > 0.2) & (gap < 0.8))
    assert bench.FLOOR_DEX == np.hypot(bench.NOISE_DEX, bench.OFFSET_DEX)
    # sample_decoy: d identifies the training code (1 in A, 0 in B) and the codes' offsets differ
    a, b, c = (bench._code(rng, "sample_decoy", code) for code in "ABC")
    assert abs(a["d"].mean() - 1) < 0.05 and abs(b["d"].mean()) < 0.05 and 0.3 < c["d"].mean() < 0.7
    offset = [np.mean(t["y"] - 0.6 * t["x"] + 0.5 * t["p"] - 17.0) for t in (a, b, c)]
    assert offset[0] - offset[1] > 0.25 and abs(offset[2]) < 0.03
    # fixed_parameter: q fixed at 0.3 in training, varied (per simulation) in the held-out code
    a, c = bench._code(rng, "fixed_parameter", "A"), bench._code(rng, "fixed_parameter", "C")
    assert np.all(a["q"] == 0.3) and c["q"].min() < 0.25 and c["q"].max() > 0.35
    assert len(np.unique(c["q"])) == 6


def test_the_single_code_setups_are_what_the_docstring_says():
    rng = np.random.default_rng(1)
    a, c = bench._code(rng, "one_code_shift", "A"), bench._code(rng, "one_code_shift", "C")
    assert len(np.unique(a["sim"])) == 12 and a["params"].shape == (1200, 2)
    assert a["p"].max() <= 1.0 and c["p"].max() > 1.3
    a, c = bench._code(rng, "one_code_proxy", "A"), bench._code(rng, "one_code_proxy", "C")
    assert np.std(a["q"] - a["p"]) < 0.02 and np.std(c["q"] - c["p"]) > 0.2
    # the nuisance carries the simulation's offset in the training code only
    a, c = bench._code(rng, "one_code_nuisance", "A"), bench._code(rng, "one_code_nuisance", "C")
    resid_a = a["y"] - 0.6 * a["x"] + 0.5 * a["p"] - 17.0
    resid_c = c["y"] - 0.6 * c["x"] + 0.5 * c["p"] - 17.0
    assert np.corrcoef(a["n"], resid_a)[0, 1] > 0.5 and abs(np.corrcoef(c["n"], resid_c)[0, 1]) < 0.2


@pytest.mark.slow
def test_last_line_format(capsys):
    bench.main(["--seeds", "1", "--generations", "5", "--setups", "decoy_one_code"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("transfer: physical=") and "/1 finite=" in last
    assert "median_ratio_to_floor=" in last
