"""Planted-truth tests of ranking, symbolic regression and evaluation."""

import numpy as np
import pytest
import sympy as sp
from astropy.table import Table
from conftest import BY_HALO

from pipeline.discovery.rank import RankOptions, rank_features
from pipeline.discovery.sr.constants import equivalent_up_to_constants, free_constants, refit_constants
from pipeline.discovery.sr.expressions import node_count, parse_expression, to_callable, to_latex
from pipeline.discovery.sr.search import (
    SROptions,
    choose_equation,
    choose_equation_paired,
    discover,
    fit_engine,
)
from pipeline.errors import BackendUnavailableError, DataError


def test_rank_puts_true_features_first():
    rng = np.random.default_rng(0)
    n = 1000
    a, b, d = rng.normal(size=(3, n))
    e = a + 2.0 * rng.normal(size=n)  # weakly correlated with a, carries no extra information
    y = 1.0 * a + 0.5 * b + 0.1 * rng.normal(size=n)
    t = rank_features(np.column_stack([d, e, b, a]), y, ["d", "e", "b", "a"],
                      RankOptions(n_estimators=60, top_k=2, repeats=3, folds=3, seed=1))
    assert list(t["feature"][:2]) == ["a", "b"]
    assert set(t["feature"][t["selected"]]) == {"a", "b"}
    assert t.meta["r2_cv"] > 0.8 and len(t.meta["r2_folds"]) == 3
    # distractors last, their intervals reach zero; the true features' intervals do not
    assert set(t["feature"][2:]) == {"d", "e"}
    assert np.all(t["permutation_lo"][:2] > 0.05) and np.all(t["permutation_lo"][2:] < 0.02)
    assert np.all(t["permutation_lo"] <= t["permutation_mean"])
    assert np.all(t["permutation_mean"] <= t["permutation_hi"])


def test_rank_reports_correlated_groups_and_takes_one_member():
    """Two near-copies of the true driver: each looks weak when shuffled alone (the forest
    uses the other), the grouped importance shows what they carry, and only one goes to SR."""
    rng = np.random.default_rng(3)
    n = 800
    a, b, d = rng.normal(size=(3, n))
    a_copy = a + 0.05 * rng.normal(size=n)
    y = a + 0.4 * b + 0.05 * rng.normal(size=n)
    names = ["a", "a_copy", "b", "d"]
    t = rank_features(np.column_stack([a, a_copy, b, d]), y, names,
                      RankOptions(n_estimators=60, top_k=3, repeats=3, folds=3, seed=0))
    assert sorted(map(sorted, t.meta["groups"])) == [["a", "a_copy"], ["b"], ["d"]]
    row = {f: i for i, f in enumerate(t["feature"])}
    group_imp = t["group_importance"][row["a"]]
    assert group_imp > 2 * max(t["permutation_mean"][row["a"]], t["permutation_mean"][row["a_copy"]])
    chosen = set(t["feature"][t["selected"]])
    assert "b" in chosen and len(chosen & {"a", "a_copy"}) == 1 and "d" not in chosen


def test_correlated_groups_single_linkage():
    from pipeline.discovery.rank import correlated_groups

    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    chain = np.column_stack([a, a + 0.3 * rng.normal(size=500), rng.normal(size=500),
                             np.full(500, 2.0)])
    groups, rho = correlated_groups(chain, 0.9)
    assert groups == [[0, 1], [2], [3]]
    assert rho.shape == (4, 4) and rho[0, 1] > 0.9


def test_groups_are_formed_at_fixed_x_and_x_takes_no_top_k_slot():
    """Two features that both follow the halo mass (the relation's x) are not near-copies for
    the residual at fixed x: raw rho 0.9, at fixed x near zero; both carry information."""
    rng = np.random.default_rng(2)
    n = 1200
    x = rng.normal(size=n)
    u, v = rng.normal(size=(2, n))
    gas, conc = 3 * x + u, 3 * x + v
    y = 0.3 * u + 0.3 * v + 0.3 * x + 0.05 * rng.normal(size=n)
    names = ["x", "gas", "conc"]
    data = np.column_stack([x, gas, conc])
    from pipeline.discovery.rank import correlated_groups

    raw, rho_raw = correlated_groups(data, 0.8)
    fixed, rho_fixed = correlated_groups(data, 0.8, alone=(0,))
    assert rho_raw[1, 2] > 0.85 and rho_fixed[1, 2] < 0.2
    assert [0, 1, 2] in raw and sorted(fixed) == [[0], [1], [2]]  # raw: all through x
    t = rank_features(data, y, names, RankOptions(n_estimators=60, top_k=2, repeats=3, folds=3),
                      ungrouped=["x"])
    assert set(t["feature"][t["selected"]]) == {"gas", "conc"}  # x is important, but never taken


def test_rank_needs_enough_haloes():
    with pytest.raises(DataError, match="only 5 haloes"):
        rank_features(np.ones((5, 2)), np.ones(5), ["a", "b"], RankOptions())


@pytest.mark.slow
def test_sr_recovers_planted_relation():
    """y = 0.26 ln(1 + s) - 0.2 c: the Y(1 + M*/Mgas) correction with a c_gas term."""
    rng = np.random.default_rng(2)
    n = 600
    s = rng.uniform(0.05, 3.0, n)
    c = rng.uniform(0.3, 0.7, n)
    distractor = rng.normal(size=n)
    y = 0.26 * np.log(1 + s) - 0.2 * c + 0.005 * rng.normal(size=n)
    table = discover(np.column_stack([s, c, distractor]), y, ["s", "c", "distractor"],
                     SROptions(**BY_HALO, generations=60, population_size=300, seeds=[0, 1],
                               max_evaluations=200000))
    chosen = table[table["chosen"]][0]
    assert chosen["r2_val"] > 0.97
    expr = sp.sympify(chosen["expression"])
    assert {str(x) for x in expr.free_symbols} == {"s", "c"}
    assert table["complexity"][0] == 1  # the constant model anchors the front
    assert np.all(np.diff(table["complexity"]) > 0)
    # the chosen equation's constants are refitted on every halo, with 1-sigma errors
    refit = sp.sympify(table.meta["chosen"])
    assert len(table.meta["constants"]) == len(refit.atoms(sp.Float))
    assert all(np.isfinite(c["error"]) and c["error"] >= 0 for c in table.meta["constants"])
    assert equivalent_up_to_constants(refit, expr, ["s", "c", "distractor"],
                                      np.column_stack([s, c, distractor]), rtol=0.05)


@pytest.mark.slow
def test_parallel_seeds_give_the_serial_table():
    """Seeds run in parallel (sr.threads > 1) give exactly the table of the serial runs."""
    rng = np.random.default_rng(6)
    x = rng.uniform(0.1, 1.0, (400, 2))
    y = np.log1p(2 * x[:, 0]) - 0.3 * x[:, 1] + 0.01 * rng.normal(size=400)
    opts = dict(**BY_HALO, generations=15, population_size=100, seeds=[0, 1, 2], max_evaluations=20000)
    serial = discover(x, y, ["a", "b"], SROptions(**opts, threads=1))
    parallel = discover(x, y, ["a", "b"], SROptions(**opts, threads=3))
    assert list(serial["expression"]) == list(parallel["expression"])
    assert serial.meta["chosen"] == parallel.meta["chosen"]


def test_search_rows_subsample_keeps_each_simulations_share():
    from pipeline.discovery.sr.search import search_rows

    assert np.array_equal(search_rows(500, 1000), np.arange(500))
    groups = np.repeat(["a", "b", "c"], [6000, 3000, 1000])
    picked = search_rows(10000, 1000, groups)
    assert len(picked) == 1000 and len(np.unique(picked)) == 1000
    share = {g: int(np.sum(groups[picked] == g)) for g in "abc"}
    assert share == {"a": 600, "b": 300, "c": 100}
    assert np.array_equal(picked, search_rows(10000, 1000, groups))  # reproducible


KNOWN_PAIRS = [  # candidate, reference (its Floats are the free constants), equivalent?
    ("2.01*x0**0.61*(1 - 0.29*x1)", "1.0*x0**0.6*(1 - 0.3*x1)", True),
    ("x0*x1", "2.0*x0*x1", True),
    ("log(x0) + log(x1) + 1.3", "log(2.0*x0*x1)", True),
    ("3.0*x0*(1 + x1)**0.7", "1.0*x0*(1 + 1.0*x1)**1.0", True),
    ("0.6*log(x0) + 0.2", "1.0*log(x0**0.5) + 1.0", True),
    ("x0**2", "x0**3", False),
    ("x0/(1 + x1)", "1.0*x0*(1 - 1.0*x1)", False),
    ("0.5*x0 - 0.1*x0**2", "1.0*log(1.0*x0)", False),  # a polynomial mimicking a log
    ("x0**0.6*exp(-0.3*x1)", "1.0*x0**0.6*(1 - 0.3*x1)", False),
]


@pytest.mark.parametrize("candidate, reference, expected", KNOWN_PAIRS)
def test_equivalence_up_to_constants_on_known_pairs(candidate, reference, expected):
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(1, 10, 300), rng.uniform(0.05, 0.5, 300)])
    names = ["x0", "x1"]
    got = equivalent_up_to_constants(parse_expression(candidate, names),
                                     parse_expression(reference, names), names, x)
    assert got is expected


def test_equivalence_allows_offset_and_scale_only_when_asked():
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 10, (300, 1))
    linearly_scaled = parse_expression("2.1*x0**1.64 - 0.157", ["x0"])
    power_law = parse_expression("2.0*x0**1.667", ["x0"])
    assert equivalent_up_to_constants(linearly_scaled, power_law, ["x0"], x)
    assert not equivalent_up_to_constants(linearly_scaled, power_law, ["x0"], x,
                                          offset_and_scale=False)


def test_refit_constants_recovers_planted_values_within_errors():
    rng = np.random.default_rng(4)
    x = np.column_stack([rng.uniform(1, 10, 400), rng.uniform(0.05, 0.5, 400)])
    y = 2.5 * x[:, 0] ** 0.6 * (1 - 0.3 * x[:, 1]) + 0.05 * rng.normal(size=400)
    start = parse_expression("1.0*x0**0.5*(1 - 0.1*x1)", ["x0", "x1"])
    fit = refit_constants(start, ["x0", "x1"], x, y)
    truth = {1.0: 2.5, 0.5: 0.6, 0.1: 0.3}  # start value -> planted value
    _, _, start_values = free_constants(start)
    for s0, v, e in zip(start_values, fit.values, fit.errors, strict=True):
        assert abs(abs(v) - truth[abs(s0)]) < 4 * e and e < 0.1 * truth[abs(s0)]
    assert fit.rms == pytest.approx(0.05, rel=0.15)


def test_choice_rule():
    idx, scores = choose_equation(np.array([1, 3, 5, 9]), np.array([1.0, 0.1, 0.09, 0.089]), 1.5)
    assert idx == 1
    assert scores[1] == pytest.approx(np.log(10) / 2)
    # an equation outside the loss tolerance is never chosen even with a high score
    idx, _ = choose_equation(np.array([1, 2, 20]), np.array([1.0, 0.5, 0.01]), 1.5)
    assert idx == 2


def test_expression_parsing_and_latex():
    e = parse_expression("((0.5 * x0) + log((2.0 * x1))) ^ 2", ["c_gas", "Mstar_over_Mgas"],
                         ["x0", "x1"])
    assert {str(s) for s in e.free_symbols} == {"c_gas", "Mstar_over_Mgas"}
    f = to_callable(e, ["c_gas", "Mstar_over_Mgas"])
    x = np.array([[0.2, 1.0], [0.4, 2.0]])
    np.testing.assert_allclose(f(x), (0.5 * x[:, 0] + np.log(2 * x[:, 1])) ** 2)
    assert r"c_{\rm gas}" in to_latex(e)
    assert node_count(sp.sympify("a + b")) == 3
    with pytest.raises(ValueError, match="not an expression"):
        parse_expression("x0 +* (", ["a"], ["x0"])
    # log1p as PySR writes it, and as operon prints its log1p node
    assert parse_expression("log1p(x0 * 0.8)", ["c"], ["x0"]) == sp.log(1 + 0.8 * sp.Symbol("c"))
    assert parse_expression("log(((-0.8) * x0)+1)", ["c"], ["x0"]) == sp.log(1 - 0.8 * sp.Symbol("c"))


def test_pysr_adapter_up_to_the_julia_boundary(monkeypatch):
    from pipeline.discovery.sr.pysr_backend import check_pysr_available, pysr_options

    opts = pysr_options(SROptions(allowed_symbols="add,sub,mul,div,constant,variable,log,exp",
                                  threads=1), 3)
    assert opts["binary_operators"] == ["+", "-", "*", "/"]
    assert opts["unary_operators"] == ["log", "exp"]
    assert "log1p" in pysr_options(SROptions(), 0)["unary_operators"]  # the default operator set maps
    assert opts["random_state"] == 3 and opts["deterministic"] is True
    with pytest.raises(ValueError, match="cannot map"):
        pysr_options(SROptions(allowed_symbols="add,aq"), 0)
    monkeypatch.delenv("PYTHON_JULIAPKG_EXE", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BackendUnavailableError, match="pysr|Julia"):
        check_pysr_available()
    with pytest.raises(BackendUnavailableError):
        fit_engine(np.ones((30, 1)), np.ones(30), SROptions(backend="pysr"), 0)
    threaded = pysr_options(SROptions(threads=4), 0)
    assert threaded["parallelism"] == "multithreading" and threaded["procs"] == 4
    assert threaded["deterministic"] is False  # PySR is reproducible only when serial


# as PySR writes it next to a run (hall_of_fame_<date>.csv): Julia syntax, ^ for powers
PYSR_HALL_OF_FAME = """Complexity,Loss,Equation
1,0.52,"2.2871"
3,0.11,"(x0 * 0.5213)"
5,0.0023,"((x0 ^ 0.6) * 1.1017)"
9,1.2e-7,"((x0 ^ 0.6) * (1.5 - (x1 * 1.2)))"
11,1.1e-7,"(((x0 ^ 0.6) * (1.5 - (x1 * 1.2))) + (square(x1) * 1.0e-5))"
"""


def test_pysr_equation_table_is_parsed_into_the_pareto_table(tmp_path, monkeypatch):
    """Everything up to the Julia boundary: a stand-in for PySRRegressor returns PySR's
    equation table; the pipeline maps options, parses the equations and builds its front."""
    import sys
    import types

    import pandas as pd

    from pipeline.discovery.sr import pysr_backend

    hof = tmp_path / "hall_of_fame.csv"
    hof.write_text(PYSR_HALL_OF_FAME)
    rows = pysr_backend.read_pysr_equations(hof)
    assert [r["complexity"] for r in rows] == [1, 3, 5, 9, 11]
    assert rows[3]["equation"] == "((x0 ^ 0.6) * (1.5 - (x1 * 1.2)))"
    with pytest.raises(ValueError, match="lacks column"):
        pysr_backend.read_pysr_equations(pd.DataFrame({"equation": ["x0"]}))

    seen_kwargs = {}

    class FakePySRRegressor:  # what PySR hands back after a fit: equations_ (lower-case columns)
        def __init__(self, **kwargs):
            seen_kwargs.update(kwargs)

        def fit(self, x, y, variable_names):
            assert variable_names == ["x0", "x1", "x2"]
            self.equations_ = pd.read_csv(hof).rename(columns=str.lower)
            return self

    monkeypatch.setitem(sys.modules, "pysr", types.SimpleNamespace(PySRRegressor=FakePySRRegressor))
    monkeypatch.setattr(pysr_backend, "check_pysr_available", lambda: None)
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(1, 10, 200), rng.uniform(0.1, 0.6, 200), rng.normal(size=200)])
    y = 1.5 * x[:, 0] ** 0.6 * (1 - 0.8 * x[:, 1])
    table = discover(x, y, ["Y", "c_gas", "noise"],
                     SROptions(**BY_HALO, backend="pysr", seeds=[7],
                               allowed_symbols="add,sub,mul,div,pow,square"))
    assert seen_kwargs["random_state"] == 7 and seen_kwargs["binary_operators"] == ["+", "-", "*", "/", "^"]
    assert seen_kwargs["unary_operators"] == ["square"]
    chosen = sp.sympify(table.meta["chosen"])
    assert {str(v) for v in chosen.free_symbols} == {"Y", "c_gas"}
    truth = parse_expression("1.0*Y**0.6*(1 - 1.0*c_gas)", ["Y", "c_gas", "noise"])
    assert equivalent_up_to_constants(chosen, truth, ["Y", "c_gas", "noise"], x)


def _pysr_runs() -> str | None:
    from pipeline.discovery.sr.pysr_backend import check_pysr_available

    try:
        check_pysr_available()
    except BackendUnavailableError as exc:
        return str(exc)
    return None


@pytest.mark.skipif(_pysr_runs() is not None,
                    reason="PySR's fit runs in Julia, which cannot be installed on these machines "
                           "(no download allowed); everything before it is tested above")
def test_pysr_fit_recovers_a_planted_power_law():
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 10, (300, 2))
    y = 2.0 * x[:, 0] ** 0.6
    table = discover(x, y, ["a", "b"], SROptions(**BY_HALO, backend="pysr", generations=20, seeds=[0]))
    truth = parse_expression("1.0*a**0.6", ["a", "b"])
    assert equivalent_up_to_constants(sp.sympify(table.meta["chosen"]), truth, ["a", "b"], x)


@pytest.mark.slow
def test_sr_is_reproducible_for_fixed_seeds():
    rng = np.random.default_rng(8)
    x = rng.uniform(0.1, 1.0, (200, 2))
    y = 0.5 * x[:, 0] - 0.2 * x[:, 1] ** 2 + 0.01 * rng.normal(size=200)
    opts = SROptions(**BY_HALO, generations=10, population_size=100, seeds=[3], max_evaluations=20000)
    a = discover(x, y, ["a", "b"], opts)
    b = discover(x, y, ["a", "b"], opts)
    assert list(a["expression"]) == list(b["expression"])


def test_features_correlated_with_the_relations_own_x_are_not_grouped_with_it():
    from pipeline.discovery.rank import correlated_groups

    rng = np.random.default_rng(2)
    mass = rng.normal(size=400)
    x = np.column_stack([mass, mass + 0.1 * rng.normal(size=400), rng.normal(size=400)])
    assert correlated_groups(x, 0.8)[0] == [[0, 1], [2]]
    assert correlated_groups(x, 0.8, alone=(0,))[0] == [[0], [1], [2]]


def test_paired_rule_takes_the_simplest_equation_the_data_cannot_reject():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=400) ** 2
    jitter = rng.normal(size=400)
    # equation 1 differs from the best (3) by zero-mean jitter: the data cannot tell them apart
    sq = np.array([noise + 1.0, 0.999 * noise + 0.01 * (jitter - jitter.mean()), noise, noise * 0.999])
    idx, excess = choose_equation_paired(np.array([1, 3, 5, 9]), sq, z=1.0)
    assert idx == 1 and abs(excess[1]) <= 1.0 and excess[0] > 10
    # noiseless: a look-alike whose error sits in one corner is within z errors of zero,
    # but not within the loss tolerance of the exact equation
    corner = np.zeros(400)
    corner[:3] = 1.0
    idx, excess = choose_equation_paired(np.array([3, 7]), np.array([corner, np.full(400, 1e-20)]),
                                         z=2.0, tolerance=1.5)
    assert excess[0] < 2 and idx == 1
    with pytest.raises(ValueError, match="sorted"):
        choose_equation_paired(np.array([3, 1]), sq[:2], 1.0)


def test_snapping_fixes_noise_level_constants_and_keeps_measured_ones():
    from pipeline.discovery.sr.snapping import nearest_simple, snap_constants

    assert nearest_simple(1.004) == 1 and nearest_simple(0.331) == sp.Rational(1, 3)
    assert nearest_simple(-0.0002) == 0 and nearest_simple(37.0) is None
    rng = np.random.default_rng(1)
    n = 800
    x = np.column_stack([rng.uniform(1, 10, n), rng.uniform(0.1, 1, n), rng.uniform(1, 10, n)])
    y = 1.3 * x[:, 0] * np.exp(-0.6 * x[:, 1]) * np.exp(0.02 * rng.normal(size=n))
    names = ["m", "c", "d"]
    # as an engine writes it: a free exponent near 1 and a noise-fitting term in d
    engine = parse_expression("1.29*m**1.002*exp(-0.6*c + 0.0001*d)", names)
    snapped, steps = snap_constants(engine, names, x[:500], y[:500], x[500:], y[500:], log_space=True)
    assert {s.to for s in steps} >= {"1", "0"}
    assert {str(s) for s in snapped.free_symbols} == {"m", "c"}
    exponent = [p for p in snapped.atoms(sp.Pow) if p.base == sp.Symbol("m")]
    assert not exponent  # m**1 is m
    assert len(snapped.atoms(sp.Float)) == 2  # the measured 1.3 and -0.6 stay free constants
    assert all(abs(s.value - float(sp.Rational(s.to))) <= 3 * s.error for s in steps if np.isfinite(s.error))


@pytest.mark.slow
def test_log_space_search_finds_a_power_law_with_lognormal_scatter():
    """y = 2 M^(5/3) x 10% log-normal scatter: the log-space search, the log-normal noise model
    (higher validation likelihood than additive) and the snapped exponent 5/3."""
    rng = np.random.default_rng(3)
    n = 600
    m = rng.uniform(1, 10, n)
    y = 2.0 * m ** (5 / 3) * np.exp(0.1 * rng.normal(size=n))
    x = np.column_stack([m, rng.uniform(1, 10, n)])
    table = discover(x, y, ["m", "d"], SROptions(**BY_HALO, target_space="auto", generations=30,
                                                 population_size=200, seeds=[0], max_evaluations=60000))
    assert table.meta["search_spaces"] == ["linear", "log"] and table.meta["noise_model"] == "log"
    nll = table.meta["noise_model_nll"]
    assert nll["log"] < nll["linear"]
    chosen = sp.sympify(table.meta["chosen"])
    assert chosen.free_symbols == {sp.Symbol("m")}
    assert equivalent_up_to_constants(chosen, parse_expression("1.0*m**1.5", ["m"]), ["m"], x[:, :1],
                                      offset_and_scale=False)
    assert set(table["found_in"]) <= {"linear", "log"} and "log" in set(table["found_in"][table["chosen"]])


def test_log_space_needs_a_positive_target():
    x = np.ones((50, 1))
    with pytest.raises(DataError, match="target_space is 'log'.*values <= 0"):
        discover(x, np.linspace(-1, 1, 50), ["a"], SROptions(target_space="log"))
    with pytest.raises(ValueError, match="target_space must be one of"):
        discover(x, np.linspace(1, 2, 50), ["a"], SROptions(target_space="both"))


def test_grouped_validation_split_holds_out_whole_simulations():
    from pipeline.discovery.sr.search import validation_split

    sims = np.repeat([f"1P_{i}" for i in range(20)], 12)  # 20 simulations x 12 stacks
    opts = SROptions(validation_groups="sim", choice_data="split", seeds=[4])
    idx_tr, idx_val = validation_split(len(sims), opts, sims)
    assert not set(sims[idx_tr]) & set(sims[idx_val])
    assert len(set(sims[idx_val])) == 6 and len(idx_tr) + len(idx_val) == len(sims)
    again = validation_split(len(sims), opts, sims)
    assert np.array_equal(again[1], idx_val)  # seeded
    # by halo (no groups): the same split as scikit-learn's train_test_split with the first seed
    plain = validation_split(240, opts)
    assert len(plain[1]) == 72
    with pytest.raises(DataError, match="validation_groups.*only 2 group"):
        validation_split(24, opts, np.repeat(["a", "b"], 12))
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 2, (240, 2))
    table = discover(x, 2 * x[:, 0], ["a", "b"], SROptions(
        validation_groups="sim", choice_data="split", generations=5, population_size=50,
        max_evaluations=5000, seeds=[4]), sims)
    assert table.meta["validation_split"] == "by sim: 6 of 20 held out"
    assert table.meta["n_val"] == 72


def test_sr_stage_names_an_unknown_validation_group_column(tmp_path, capsys):
    import json

    from pipeline.cli import main
    from pipeline.io.tables import write_table

    rng = np.random.default_rng(0)
    n = 60
    m = rng.uniform(12, 14, n)
    halos = Table({"suite": ["A"] * n, "sim": [f"LH_{i % 6}" for i in range(n)], "log10_M200c": m,
                   "log10_Y200c_ss": 5 / 3 * m + 0.1 * rng.normal(size=n), "c_gas": rng.uniform(0.2, 0.6, n)})
    write_table(halos, tmp_path / "halos.h5")
    write_table(Table({"feature": ["c_gas"], "selected": [True]}), tmp_path / "rank.ecsv")
    options = {"target": {"name": "Y", "y": "log10_Y200c_ss", "x": "log10_M200c", "slope": 5 / 3},
               "train": ["A"], "sr": {"validation_groups": "simulation", "generations": 2}}
    out = tmp_path / "sr.ecsv"
    assert main(["sr", "--halos", str(tmp_path / "halos.h5"), "--options", json.dumps(options),
                 "--rank", str(tmp_path / "rank.ecsv"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "sr.validation_groups" in err and "'simulation'" in err and "sim" in err
    assert not out.exists()


def test_rank_folds_never_share_a_simulation():
    from pipeline.discovery.folds import simulation_folds

    sims = np.repeat([f"A/LH_{i}" for i in range(7)], 30)
    folds, text = simulation_folds(sims, len(sims), 5, seed=0)
    assert len(folds) == 5 and text == "5 folds by simulation (7 simulations)"
    seen = []
    for train, test in folds:
        assert not set(sims[train]) & set(sims[test])
        seen.extend(test)
    assert sorted(seen) == list(range(len(sims)))
    # with one simulation there is nothing to group by: folds by halo, and said so
    _, text = simulation_folds(np.array(["A/LH_0"] * 50), 50, 5, seed=0)
    assert "by halo" in text


def test_rank_by_simulation_does_not_reward_a_feature_that_only_names_the_simulation():
    """Each simulation has its own offset (its feedback); a feature constant within a simulation
    but unrelated to the offset identifies the simulation. Folds by halo let the forest look the
    offset up through it; folds by simulation do not."""
    rng = np.random.default_rng(4)
    n_sims, per = 12, 80
    sim = np.repeat(np.arange(n_sims), per)
    a = rng.normal(size=n_sims * per)
    label = rng.permutation(n_sims)[sim] + 0.01 * rng.normal(size=n_sims * per)
    y = 0.5 * a + rng.normal(0, 0.3, n_sims)[sim] + 0.05 * rng.normal(size=n_sims * per)
    x = np.column_stack([a, label])
    opts = RankOptions(n_estimators=60, top_k=2, repeats=3, folds=4, seed=0)
    by_halo = rank_features(x, y, ["a", "label"], opts)
    by_sim = rank_features(x, y, ["a", "label"], opts, sims=np.array([f"S/{s}" for s in sim]))
    lo = {t.meta["cv_split"]: dict(zip(t["feature"], t["permutation_lo"], strict=True))
          for t in (by_halo, by_sim)}
    assert by_sim.meta["cv_split"] == "4 folds by simulation (12 simulations)"
    assert lo[by_halo.meta["cv_split"]]["label"] > 0.2  # looks important, and is selected
    assert list(by_halo["feature"][by_halo["selected"]]) == ["a", "label"]
    assert lo[by_sim.meta["cv_split"]]["label"] < 0  # its interval reaches zero: not selected
    assert by_sim.meta["r2_cv"] < by_halo.meta["r2_cv"] - 0.15  # the leak inflated the skill
    assert list(by_sim["feature"][by_sim["selected"]]) == ["a"]


def test_rank_drops_constant_features_and_ranks_two_features(caplog):
    """A constant column (e.g. redshift with one snapshot) used to crash the Spearman matrix."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 300))
    y = a + 0.05 * rng.normal(size=300)
    x = np.column_stack([a, np.zeros(300), b])
    with caplog.at_level("WARNING"):
        t = rank_features(x, y, ["a", "redshift", "b"], RankOptions(n_estimators=30, folds=3, top_k=2))
    assert list(t["feature"]) == ["a", "b"] and list(t["feature"][t["selected"]]) == ["a"]
    assert t.meta["dropped_features"] == {"redshift": "constant (0 for every halo)"}
    assert "redshift" in caplog.text
    assert np.isfinite(t.meta["r2_cv"])


def test_rank_stage_drops_a_feature_without_values(tmp_path, caplog):
    """Through the stage's CLI: a feature column that is NaN for every training halo is dropped
    with a warning instead of dropping every halo."""
    import json

    from pipeline.cli import main
    from pipeline.io.tables import read_table, write_table

    rng = np.random.default_rng(6)
    n = 200
    m = rng.uniform(12, 14, n)
    halos = Table({"suite": ["A"] * n, "sim": [f"LH_{i % 5}" for i in range(n)], "log10_M200c": m,
                   "log10_Y200c_ss": 5 / 3 * m + 0.1 * rng.normal(size=n),
                   "c_gas": rng.uniform(0.2, 0.6, n), "Z_mw200c": np.full(n, np.nan)})
    write_table(halos, tmp_path / "halos.h5")
    options = {"target": {"name": "Y", "y": "log10_Y200c_ss", "x": "log10_M200c", "slope": 5 / 3},
               "features": ["log10_M200c", "c_gas", "Z_mw200c"], "train": ["A"],
               "rank": {"n_estimators": 20, "folds": 3, "top_k": 1}}
    with caplog.at_level("WARNING"):
        assert main(["rank", "--halos", str(tmp_path / "halos.h5"), "--options", json.dumps(options),
                     "--out", str(tmp_path / "rank.ecsv")]) == 0
    t = read_table(tmp_path / "rank.ecsv")
    assert t.meta["dropped_features"] == {"Z_mw200c": "no finite value"}
    assert "Z_mw200c" in caplog.text and len(t) == 2 and t.meta["n_haloes"] == n
    assert t.meta["cv_split"] == "3 folds by simulation (5 simulations)"


@pytest.mark.slow
def test_both_slopes_in_one_job_give_the_tables_of_separate_jobs(tmp_path):
    """``sr --slope fixed free`` runs the two searches side by side on the job's threads; each
    table is the one a job per slope writes (the engine's result does not depend on threads),
    provenance included (the job's options, not the per-search thread split)."""
    import json

    from pipeline.cli import main
    from pipeline.io.tables import read_table, write_table

    rng = np.random.default_rng(3)
    n = 240
    m = rng.uniform(12, 14, n)
    c = rng.uniform(0.2, 0.6, n)
    halos = Table({"suite": ["A"] * n, "sim": [f"LH_{i % 8}" for i in range(n)], "log10_M200c": m,
                   "log10_Y200c_ss": 5 / 3 * m - 0.8 * c + 0.02 * rng.normal(size=n), "c_gas": c})
    write_table(halos, tmp_path / "halos.h5")
    write_table(Table({"feature": ["c_gas"], "selected": [True]}), tmp_path / "rank.ecsv")
    options = {"target": {"name": "Y", "y": "log10_Y200c_ss", "x": "log10_M200c", "slope": 5 / 3},
               "train": ["A"], "sr": {**BY_HALO, "generations": 10, "population_size": 100, "seeds": [0, 1],
                                      "max_evaluations": 20000, "threads": 2}}
    base = ["sr", "--halos", str(tmp_path / "halos.h5"), "--rank", str(tmp_path / "rank.ecsv"),
            "--options", json.dumps(options)]
    assert main([*base, "--slope", "fixed", "free", "--out", str(tmp_path / "both_fixed.ecsv"),
                 str(tmp_path / "both_free.ecsv")]) == 0
    for slope in ("fixed", "free"):
        assert main([*base, "--slope", slope, "--out", str(tmp_path / f"one_{slope}.ecsv")]) == 0
        both, one = (read_table(tmp_path / f"{k}_{slope}.ecsv") for k in ("both", "one"))
        assert list(both["expression"]) == list(one["expression"])
        assert both.meta["chosen"] == one.meta["chosen"]
        assert both.meta["provenance"]["options"] == one.meta["provenance"]["options"]
        assert both.meta["provenance"]["options"]["threads"] == 2
    assert main([*base, "--slope", "fixed", "free", "--out", str(tmp_path / "x.ecsv")]) == 1
