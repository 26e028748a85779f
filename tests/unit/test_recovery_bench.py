"""The recovery benchmark's planted relations and its recovery criterion (the bench itself runs
the engines; see bench/recovery.py)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.discovery.sr.expressions import parse_expression

_spec = importlib.util.spec_from_file_location(
    "recovery_bench", Path(__file__).resolve().parents[2] / "bench" / "recovery.py")
recovery = importlib.util.module_from_spec(_spec)
sys.modules["recovery_bench"] = recovery  # dataclasses look their module up there
_spec.loader.exec_module(recovery)


def test_at_least_ten_planted_relations_with_correlated_distractors():
    assert len(recovery.RELATIONS) >= 10
    rng = np.random.default_rng(0)
    x, y, names, truth = recovery.make_data(recovery.RELATIONS[1], 0.0, 2000, rng)
    assert names[-3:] == ["d0", "d1", "d2"] and np.isfinite(y).all()
    assert np.corrcoef(x[:, 0], x[:, names.index("d0")])[0, 1] > 0.7


@pytest.mark.parametrize("rel", recovery.RELATIONS, ids=lambda r: r.name)
def test_the_planted_truth_counts_as_recovered_and_its_sub_forms_do_not(rel):
    rng = np.random.default_rng(1)
    x, y, names, truth = recovery.make_data(rel, 0.0, 400, rng)
    assert recovery.recovered(truth, truth, names, x)
    # a linear-scaled copy (what operon returns) is recovered too
    assert recovery.recovered(1.002 * truth + 1e-3, truth, names, x)
    # dropping the last variable's influence is not
    last = names[len(rel.ranges) - 1]
    if len(rel.ranges) > 1:
        assert not recovery.recovered(truth.subs(last, float(np.mean(x[:, len(rel.ranges) - 1]))),
                                      truth, names, x)
    # using a distractor is not
    assert not recovery.recovered(truth + 1e-6 * parse_expression("d2", names), truth, names, x)


def test_recovery_allows_the_estimation_error_that_the_noise_implies():
    """With 10% scatter on 200 haloes the planted form with constants fitted to the data misses
    the noiseless truth by more than a fixed R^2 of 0.999 allows (R3: (1 + c)^0.5, c in 0.1-3);
    the criterion scales with what the planted form itself achieves, and still rejects a sub-form."""
    from pipeline.discovery.sr.constants import refit_constants

    rel = next(r for r in recovery.RELATIONS if r.name == "R3")
    rng = np.random.default_rng(2)
    x, y, names, truth = recovery.make_data(rel, 0.1, 200, rng)
    x_test, _, _, _ = recovery.make_data(rel, 0.1, 1000, rng)
    oracle = recovery.oracle_misfit(truth, names, x, y, x_test)
    assert oracle > 1e-3
    fitted = refit_constants(truth, names, x, y, log_space=True).expr
    assert not recovery.recovered(fitted, truth, names, x_test)  # the fixed 0.999 threshold
    assert recovery.recovered(fitted, truth, names, x_test, oracle)
    # without the c-dependence the form is not recovered, whatever the noise
    mean_c = float(np.mean(x[:, 1]))
    assert not recovery.recovered(fitted.subs("x1", mean_c), truth, names, x_test, oracle)
