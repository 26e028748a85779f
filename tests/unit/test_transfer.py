"""Choosing equations that transfer: leave-one-sample-out, the extrapolation split, domain safety."""

import numpy as np
import pytest
import sympy as sp
from conftest import BY_HALO

from pipeline.discovery.sr.domain import central_extent, domain_box, domain_points, domain_problem
from pipeline.discovery.sr.search import SROptions, discover
from pipeline.discovery.sr.transfer import extremes_split, leave_one_sample_out, weighted_choice


def _box(lo=(0.0,), hi=(1.0,), margin=0.1):
    x = np.column_stack([np.linspace(a, b, 50) for a, b in zip(lo, hi, strict=True)])
    box = domain_box(x, margin)
    return domain_points(*box), x, box


@pytest.mark.parametrize("expression, problem", [
    ("1/(x - 0.5)", "denominator x - 0.5 reaches zero"),      # a pole inside the data's range
    ("1/(x - 1.05)", "denominator x - 1.05 reaches zero"),    # in the margin, beyond the data
    ("log(x - 0.3)", "argument of a logarithm"),
    ("sqrt(x - 0.2)", "argument of a non-integer power"),
    ("exp(60*x)", "strays"),                                  # explodes just past the data
    ("1/(1 + exp(-200*(x - 0.5)))", "gradient along x"),    # bounded, but a step
    ("1/(x + 2) + log(x + 1)", None),
    ("0.5*x**2 - x", None),
    ("log(x)", None),                                         # steep at small x, but not per log
    ("sqrt(x) + 1/(1 + exp(-3*(x - 0.5)))", None),
])
def test_domain_safety_finds_poles_non_real_regions_and_blowups(expression, problem):
    points, x, box = _box(lo=(0.05,), hi=(1.0,))
    expr = sp.sympify(expression)
    from pipeline.discovery.sr.expressions import to_callable

    train_pred = to_callable(expr, ["x"])(x)
    found = domain_problem(expr, ["x"], points, train_pred, blowup=10.0, box=box)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_positive_features_are_widened_in_log_and_stay_positive():
    lo, hi = domain_box(np.array([[0.01, -3.0], [1.0, 3.0]]), 0.25)
    assert lo[0] > 0 and lo[0] == pytest.approx(0.01 / 100**0.25) and hi[0] == pytest.approx(100**0.25)
    assert lo[1] == pytest.approx(-4.5) and hi[1] == pytest.approx(4.5)


def test_extremes_split_holds_out_the_extreme_simulations_of_a_1p_set():
    """1P: each parameter varied alone over 11 values, the others at 1. The lowest and highest
    values of each (k = 2 of 11 at 15%) are held out: 4 x 4 = 16 simulations, never the
    fiducial ones."""
    values = np.array([0.25, 0.33, 0.44, 0.57, 0.76, 1.0, 1.32, 1.74, 2.3, 3.03, 4.0])
    rows, sims = [], []
    for j in range(4):
        for v in values:
            p = np.ones(4)
            p[j] = v
            rows.append(p)
            sims.append(f"1P_{len(sims)}")
    per_halo = np.repeat(np.array(rows), 3, axis=0)
    halo_sims = np.repeat(sims, 3)
    tr, val, held = extremes_split(halo_sims, per_halo, 0.15)
    assert len(held) == 16
    fiducial = {s for s, r in zip(sims, rows, strict=True) if np.all(r == 1.0)}
    assert not fiducial & set(held)
    assert set(halo_sims[val]) == set(held) and not set(halo_sims[tr]) & set(held)


def test_leave_one_sample_out_refits_without_the_left_out_sample():
    """y = 2x in sample A, 3x in sample B: the left-out residual of c*x is the other sample's
    slope error."""
    x = np.linspace(1, 2, 40)[:, None]
    samples = np.repeat(["A", "B"], 20)
    y = np.where(samples == "A", 2.0, 3.0) * x[:, 0]
    resid = leave_one_sample_out(sp.sympify("1.0*x"), ["x"], x, y, samples)
    np.testing.assert_allclose(resid[samples == "A"], (3.0 - 2.0) * x[samples == "A", 0], rtol=1e-6)
    np.testing.assert_allclose(resid[samples == "B"], (2.0 - 3.0) * x[samples == "B", 0], rtol=1e-6)


def test_weighted_choice_mean_and_worst():
    # equation 0 is simple and poor everywhere; 1 is good on group a, bad on b; 2 good on both
    groups = np.repeat(["a", "b"], [100, 10])
    sq = np.vstack([np.full(110, 1.0),
                    np.where(groups == "a", 0.1, 5.0),
                    np.full(110, 0.2)]) + np.linspace(0, 1e-3, 110)
    w = np.where(groups == "a", 1 / 200, 1 / 20)
    _, loss_mean, _ = weighted_choice(np.array([1, 3, 5]), sq, w, 2.0, 1.5, groups)
    assert loss_mean[1] == pytest.approx(0.5 * 0.1 + 0.5 * 5.0, rel=1e-3)  # each group weighs half
    chosen, loss_worst, _ = weighted_choice(np.array([1, 3, 5]), sq, w, 2.0, 1.5, groups, worst=True)
    assert loss_worst[1] == pytest.approx(5.0, rel=1e-3) and chosen == 2


def test_weighted_choice_errors_are_clustered_by_simulation():
    # the complex equation 1 wins by 5% of the loss, but only in 2 of 6 simulations (it fits their
    # offsets): per halo that is many standard errors, per simulation it is within the noise
    rng = np.random.default_rng(1)
    sims = np.repeat(np.arange(6), 100)
    base = 1.0 + 0.05 * rng.normal(size=600)
    gain = np.where(sims < 2, 0.15, 0.0)
    sq = np.vstack([base, base - gain + 1e-4 * rng.normal(size=600)])
    w = np.full(600, 1 / 600)
    chosen_halo, _, excess_halo = weighted_choice(np.array([1, 9]), sq, w, 2.0, 1.5)
    chosen_sim, _, excess_sim = weighted_choice(np.array([1, 9]), sq, w, 2.0, 1.5, clusters=sims)
    assert chosen_halo == 1 and excess_halo[0] > 5
    assert chosen_sim == 0 and excess_sim[0] < 2
    # a gain in every simulation stays significant when clustered
    sq_every = np.vstack([base, base - 0.1 + 1e-3 * rng.normal(size=600)])
    assert weighted_choice(np.array([1, 9]), sq_every, w, 2.0, 1.5, clusters=sims)[0] == 1


def _codes(seed: int = 0):
    """Two training codes: the physical feature p corrects the relation in both, the decoy d
    only in code A (strongly)."""
    rng = np.random.default_rng(seed)
    parts = []
    for code in ("A", "B"):
        n = 600
        p, d = rng.uniform(0.05, 1.0, n), rng.uniform(0.0, 1.0, n)
        y = -0.5 * p + (0.3 * d if code == "A" else 0.0) + 0.02 * rng.normal(size=n)
        sims = [f"{code}/{i % 6}" for i in range(n)]
        parts.append((np.column_stack([p, d]), y, np.full(n, code), np.array(sims)))
    return (np.vstack([a[0] for a in parts]), np.concatenate([a[1] for a in parts]),
            np.concatenate([a[2] for a in parts]), np.concatenate([a[3] for a in parts]))


@pytest.mark.slow
def test_transfer_choice_rejects_a_decoy_that_fits_only_one_training_code():
    x, y, samples, sims = _codes()
    opts = dict(generations=40, population_size=200, seeds=[0], max_evaluations=40000)
    # a validation split of the pooled haloes sees the decoy's effect on code A's haloes
    split = discover(x, y, ["p", "d"], SROptions(**opts, choice_data="split"), None, samples)
    moved = discover(x, y, ["p", "d"], SROptions(**opts, choice_data="transfer"), sims, samples)
    used_split = {s.name for s in sp.sympify(split.meta["chosen"]).free_symbols}
    used_moved = {s.name for s in sp.sympify(moved.meta["chosen"]).free_symbols}
    assert used_split == {"p", "d"}  # within the pooled codes the decoy fits
    assert used_moved == {"p"}  # left out, code B cannot use it and code A's effect does not carry
    assert moved.meta["validation_split"].startswith("leave one sample out (A, B")
    assert {"loss_out_A", "loss_out_B"} <= set(moved.colnames)
    # the same seeds give the same choice
    again = discover(x, y, ["p", "d"], SROptions(**opts, choice_data="transfer"), sims, samples)
    assert again.meta["chosen"] == moved.meta["chosen"]
    assert list(again["expression"]) == list(moved["expression"])


@pytest.mark.slow
def test_candidates_with_a_pole_in_the_domain_are_rejected_and_listed():
    """Clustered training values leave a gap: an equation with a pole there must not be chosen."""
    rng = np.random.default_rng(3)
    p = np.where(rng.uniform(size=800) < 0.5, rng.uniform(0.05, 0.2, 800), rng.uniform(0.8, 1.0, 800))
    y = 0.5 * np.log1p(3 * p) + 0.01 * rng.normal(size=800)
    table = discover(p[:, None], y, ["p"], SROptions(**BY_HALO, generations=40, population_size=200,
                                                   seeds=[0], max_evaluations=40000))
    points = domain_points(*domain_box(p[:, None], 0.25))
    chosen = sp.sympify(table.meta["chosen"])
    assert domain_problem(chosen, ["p"], points, np.zeros(1) + y, 10.0) is None
    for expression in table["expression"]:  # nothing on the front has a problem on the domain
        assert domain_problem(sp.sympify(expression), ["p"], points, y, 10.0) is None
    assert table.meta["domain"]["margin"] == 0.25
    assert all({"expression", "reason"} <= set(r) for r in table.meta["rejected"])


def test_central_extent_ignores_a_single_outlier():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.uniform(0.001, 0.02, 1000), [1.6]])
    other = rng.normal(size=1001)
    extent = central_extent(np.column_stack([z, other]))
    assert extent.shape == (2, 2)
    assert extent[1, 0] < 0.021 and extent[0, 0] > 0.001
    assert central_extent(np.empty((0, 2))).shape == (0, 2)
