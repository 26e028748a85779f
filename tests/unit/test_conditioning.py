"""Closed forms that earn their place: a search whose result does not depend on the machine,
conditioning (cancelling terms, undetermined constants) measured and enforced, degenerate
constants reparametrised, the linear model offered, and the do-no-harm verdict."""

import logging

import numpy as np
import pytest
import sympy as sp
from astropy.table import Table

from pipeline.discovery.sr import search as search_module
from pipeline.discovery.sr.conditioning import (
    cancellation_ratio,
    conditioning,
    reparametrise,
    undetermined,
)
from pipeline.discovery.sr.constants import refit_constants
from pipeline.discovery.sr.engine import EngineRun, stopped_by
from pipeline.discovery.sr.expressions import to_callable
from pipeline.discovery.sr.search import (
    SROptions,
    choose_equation_paired,
    discover,
    linear_model,
)
from pipeline.discovery.sr.transfer import weighted_choice
from pipeline.errors import DataError
from pipeline.io.equations import parse_equation

BY_HALO = {"choice_data": "split", "validation_groups": None}

#: the equation issue 44 found chosen on the CAMELS LH stacks: two terms of about +-390 cancel to
#: a correction of about 18, four of its six constants undetermined
ISSUE_EQUATION = ("-380.88 + 5*((16875.5 - 3347.1*t)*exp(-5/3*m) + 0.2006)"
                  "*(1192.5*c - 0.560*m + 2/3*t + 2)/(3*c)")


def _gas_like(rng, n=600):
    """Columns in the ranges of the LH stacks: log10 T (t), log10 Mgas (m), c_gas (c)."""
    return np.column_stack([rng.uniform(4.9, 5.4, n), rng.uniform(10.5, 12.0, n),
                            rng.uniform(0.3, 0.6, n)])


# --- cancellation ----------------------------------------------------------------------------------

def test_the_issue_equation_has_cancelling_terms_and_a_sum_of_plain_terms_has_none():
    x = _gas_like(np.random.default_rng(0))
    names = ["t", "m", "c"]
    ratio = cancellation_ratio(parse_equation(ISSUE_EQUATION, names), names, x)
    assert 15 < ratio < 40  # the product term is ~398, the correction ~17
    # a linear correction with an intercept: every term is below the correction
    plain = parse_equation("17.2 - 0.25*m + 0.18*t + 0.3*c", names)
    assert cancellation_ratio(plain, names, x) < 1
    # planted: 390 + 5 c and -373 sum to 17 + 5 c -> the term is ~22 times the correction
    planted = sp.Float(-373.0) + (sp.Float(390.0) + 5 * sp.Symbol("c"))
    assert planted.is_Add  # sympy keeps the number apart: the term is 390 + 5c written out
    assert cancellation_ratio(parse_equation("-373.0 + 390.0*exp(0.01*c)", names), names, x) > 15
    # opposed terms inside a product, seen once multiplied out: 17 + (A - B x) g with A ~ B x
    inside = parse_equation("17.0 + (500.0 - 100.0*t)*(3.0 + c)", names)
    assert cancellation_ratio(inside, names, x) > 10
    assert cancellation_ratio(parse_equation("17.0", names), names, x) == 0.0


# --- identifiability and reparametrisation -----------------------------------------------------------

def test_degenerate_constants_are_undetermined_and_reparametrised_to_the_same_function():
    """c0 x / (c1 x + c2): only c1 / c0 and c2 / c0 are measured. Fixing c0 (to 1) leaves a
    determined form with the same predictions."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2, (400, 1))
    y = x[:, 0] / (0.5 * x[:, 0] + 1.0) + rng.normal(0, 0.01, 400)
    expr = parse_equation("2.0*x/(1.1*x + 1.9)", ["x"])
    fit = refit_constants(expr, ["x"], x, y)
    assert undetermined(fit).all()  # a singular Jacobian: no separate errors
    measures = conditioning(fit, ["x"], x)
    assert measures.n_undetermined == 3 and measures.problems(10)
    fixed, steps = reparametrise(expr, ["x"], x[:300], y[:300], x[300:], y[300:])
    refit = refit_constants(fixed, ["x"], x, y)
    assert len(steps) == 1 and not undetermined(refit).any()
    assert not conditioning(refit, ["x"], x).problems(10)
    np.testing.assert_allclose(to_callable(refit.expr, ["x"])(x), to_callable(fit.expr, ["x"])(x),
                               rtol=1e-6)


def test_a_constant_the_data_do_not_need_is_fixed_to_zero():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (400, 2))
    y = 1.0 + 2.0 * x[:, 0] + rng.normal(0, 0.05, 400)
    expr = parse_equation("1.0 + 2.0*a + 0.0004*b", ["a", "b"])
    assert undetermined(refit_constants(expr, ["a", "b"], x, y))[2]
    fixed, steps = reparametrise(expr, ["a", "b"], x[:300], y[:300], x[300:], y[300:])
    assert steps[0].to == "0" and "b" not in {s.name for s in fixed.free_symbols}


# --- the choice ------------------------------------------------------------------------------------

def test_choice_rules_never_choose_what_is_not_allowed():
    rng = np.random.default_rng(3)
    sq = np.vstack([rng.normal(1.0, 0.1, 200) ** 2, rng.normal(0.5, 0.05, 200) ** 2,
                    rng.normal(0.3, 0.03, 200) ** 2])
    complexity = np.array([1, 5, 9])
    assert choose_equation_paired(complexity, sq, 2.0)[0] == 2
    assert choose_equation_paired(complexity, sq, 2.0, allowed=np.array([1, 1, 0], bool))[0] == 1
    weights = np.full(200, 1 / 200)
    assert weighted_choice(complexity, sq, weights, 2.0, np.inf,
                           allowed=np.array([1, 1, 0], bool))[0] == 1
    with pytest.raises(ValueError, match="no equation of the front may be chosen"):
        choose_equation_paired(complexity, sq, 2.0, allowed=np.zeros(3, bool))


@pytest.fixture
def engine_returns(monkeypatch):
    """Replace the engine by fixed candidate strings (over x0, x1, ...)."""
    def install(*texts):
        def runs(x, y, spaces, options):
            return {(space, seed): EngineRun(tuple(texts), 10, options.max_evaluations,
                                             "evaluations")
                    for space in spaces for seed in options.seeds}
        monkeypatch.setattr(search_module, "_engine_runs", runs)
    return install


def test_an_ill_conditioned_form_that_fits_best_is_not_chosen(engine_returns):
    """The engine returns the planted physical relation, and a form that fits better through
    terms that cancel (+-290 in a feature and its near copy, whose tiny difference carries a
    training-only signal): the table shows the measures and the choice takes the
    well-conditioned form."""
    rng = np.random.default_rng(4)
    n = 800
    p = rng.uniform(0, 1, n)
    q = p + rng.normal(0, 4e-5, n)
    y = 17.0 - 0.5 * p + 500.0 * (q - p) + rng.normal(0, 0.005, n)
    engine_returns("17.0 - 0.5*x0", "17.0 - 500.5*x0 + 500.0*x1")
    # (the domain check alone turns it away too: p and q apart blow it up on the widened box)
    table = discover(np.column_stack([p, q]), y, ["p", "q"],
                     SROptions(**BY_HALO, seeds=[0], linear_candidate=False, domain_check=False))
    chosen = table[np.asarray(table["chosen"], bool)][0]
    assert {"cancellation", "n_undetermined", "condition_number", "choosable"} <= set(table.colnames)
    assert chosen["cancellation"] < 10 and chosen["n_undetermined"] == 0
    assert parse_equation(table.meta["chosen"], ["p", "q"]).free_symbols == {sp.Symbol("p")}
    refused = table[~np.asarray(table["choosable"], bool)]
    assert len(refused) and all("cancelling" in r for r in refused["not_choosable_because"])
    assert "choosable: every constant determined" in table.meta["conditioning_rule"]


def test_the_linear_model_is_offered_and_chosen_when_the_truth_is_linear(engine_returns):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 1.5, (600, 2))
    y = 1.0 + 0.4 * x[:, 0] - 0.3 * x[:, 1] + rng.normal(0, 0.02, 600)
    fitted = linear_model(x, y, ["a", "b"])
    coefficients = {str(s): float(fitted.coeff(s)) for s in fitted.free_symbols}
    assert coefficients["a"] == pytest.approx(0.4, abs=0.01)
    assert coefficients["b"] == pytest.approx(-0.3, abs=0.01)
    assert linear_model(np.ones((10, 1)), np.ones(10), ["a"]) is None  # degenerate design
    engine_returns("1.0 + 0.4*x0")  # the engine misses b
    table = discover(x, y, ["a", "b"], SROptions(**BY_HALO, seeds=[0]))
    assert parse_equation(table.meta["chosen"], ["a", "b"]).free_symbols == {sp.Symbol("a"),
                                                                            sp.Symbol("b")}
    assert -2 in list(table["seed"])  # the linear model's row


def test_do_no_harm_recommends_the_baseline_when_no_form_beats_it():
    """Features unrelated to the target: the closed forms the engine finds fit noise, none
    beats the constant model on the validation split, the verdict says so."""
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, (400, 2))
    y = 17.0 + rng.normal(0, 0.05, 400)
    table = discover(x, y, ["a", "b"], SROptions(**BY_HALO, seeds=[0], generations=20,
                                                 population_size=100, max_evaluations=20000))
    verdict = table.meta["verdict"]
    assert verdict["recommended"] is False and "self-similar baseline" in verdict["rule"]
    assert not parse_equation(table.meta["chosen"], ["a", "b"]).free_symbols


@pytest.mark.slow
def test_do_no_harm_recommends_a_form_that_beats_the_baseline():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, (400, 1))
    y = 17.0 + 0.5 * x[:, 0] + rng.normal(0, 0.02, 400)
    table = discover(x, y, ["a"], SROptions(**BY_HALO, seeds=[0], generations=20,
                                            population_size=100, max_evaluations=20000))
    verdict = table.meta["verdict"]
    assert verdict["recommended"] is True and verdict["loss_chosen"] < verdict["loss_baseline"]


def test_the_report_recommends_the_baseline_where_held_out_data_say_so():
    from pipeline.report.sections import transfer_verdicts

    names = ["sample", "bin", "relation", "reduction_log", "reduction_log_lo95",
             "reduction_log_hi95", "reduction_log_lo68", "reduction_log_hi68"]
    rows = [["SIMBA-1P", "all", "discovered", -0.33, -0.45, -0.22, -0.4, -0.27],
            ["SIMBA-1P", "all", "blackbox", 0.12, 0.03, 0.20, 0.08, 0.16],
            ["TNG-1P", "all", "discovered", 0.68, 0.63, 0.73, 0.65, 0.71],
            ["Astrid", "all", "discovered", 0.05, -0.04, 0.14, 0.0, 0.1]]
    ev = Table(rows=rows, names=names)
    sentences = transfer_verdicts(ev, ["SIMBA-1P", "TNG-1P", "Astrid"])
    assert len(sentences) == 2
    assert sentences[0].startswith("On SIMBA-1P the discovered relation is WORSE than the "
                                   "self-similar baseline (-33%, 95% interval -45 to -22%; the "
                                   "black box on the same features: 12%)")
    assert "use the baseline there" in sentences[0]
    assert sentences[1].startswith("On Astrid the discovered relation is not distinguishable")


# --- a search whose result does not depend on the machine -----------------------------------------

def _planted(seed=8, n=500):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, (n, 2))
    return x, 1.0 + 0.8 * np.log(x[:, 0]) - 0.3 * x[:, 1] + rng.normal(0, 0.02, n)


@pytest.mark.slow
def test_the_equation_does_not_depend_on_the_time_cap():
    """The budget is evaluations: with the cap at 5 s or at 3600 s the same runs, the same
    table."""
    x, y = _planted()
    opts = dict(BY_HALO, seeds=[0, 1], generations=200, population_size=200, max_evaluations=30000)
    short = discover(x, y, ["a", "b"], SROptions(**opts, time_budget_s=5))
    long = discover(x, y, ["a", "b"], SROptions(**opts, time_budget_s=3600))
    assert short.meta["chosen"] == long.meta["chosen"]
    assert list(short["expression"]) == list(long["expression"])
    assert short.meta["engine_runs"] == long.meta["engine_runs"]
    assert {r["stopped_by"] for r in long.meta["engine_runs"]} == {"evaluations"}
    assert long.meta["time_cap_hit"] is False


@pytest.mark.slow
def test_a_run_stopped_by_the_time_cap_is_recorded_and_warned(caplog):
    x, y = _planted()
    opts = SROptions(**BY_HALO, seeds=[0], generations=10**6, population_size=200,
                     max_evaluations=10**9, time_budget_s=1)
    with caplog.at_level(logging.WARNING, logger="pipeline.discovery.sr.engine"):
        table = discover(x, y, ["a", "b"], opts)
    assert table.meta["time_cap_hit"] is True
    assert table.meta["engine_runs"][0]["stopped_by"] == "time cap"
    assert any("depends on the machine's speed and load" in r.message for r in caplog.records)
    from pipeline.report.sections import _search_warnings

    assert "stopped on sr.time_budget_s" in _search_warnings(table)[0]


def test_what_stopped_a_run():
    opts = SROptions(generations=200, max_evaluations=300000, time_budget_s=1800)
    assert stopped_by(47, 276323, 9.0, opts) == "evaluations"
    assert stopped_by(200, 150000, 9.0, opts) == "generations"
    assert stopped_by(31, 150000, 1700.0, opts) == "time cap"


# --- too few simulations for the rule -------------------------------------------------------------

def test_too_few_training_simulations_for_the_extremes_split_names_the_rule_and_the_fix():
    """Four simulations of 4 haloes: the message said 'no simulation could be held out' while
    listing two held out."""
    rng = np.random.default_rng(9)
    sims = np.repeat([f"LH_{i}" for i in range(4)], 4)
    params = rng.uniform(0.5, 2, (4, 2))[np.repeat(np.arange(4), 4)]
    x = rng.uniform(0, 1, (16, 1))
    y = x[:, 0] + rng.normal(0, 0.01, 16)
    x, y = np.vstack([x] * 2), np.concatenate([y] * 2)
    sims, params = np.concatenate([sims] * 2), np.vstack([params] * 2)
    with pytest.raises(DataError, match=r"sr.choice_data: transfer with one training sample .*: "
                                        r"holding out the 2 simulations at the extremes \(LH_\d, "
                                        r"LH_\d\) leaves 16 training haloes of 2 simulations, "
                                        r"fewer than the 20 the search needs: add training "
                                        r"simulations .* or set sr.choice_data: split"):
        discover(x, y, ["a"], SROptions(seeds=[0], choice_data="transfer"), sims,
                 np.full(32, "LH"), params)
