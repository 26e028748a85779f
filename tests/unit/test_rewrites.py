"""Readable forms of degenerate equations (pipeline.discovery.sr.rewrites): each rule checked
numerically on its domain, and refused where the data do not allow it."""

import numpy as np
import pytest
import sympy as sp

from pipeline.discovery.sr.expressions import to_callable
from pipeline.discovery.sr.rewrites import readable_form

OM, T, Z = sp.symbols("Omega_m log10_T Z")
NAMES = ["Omega_m", "log10_T", "Z"]


def _points(omega=(0.1, 0.5), temp=(5.0, 7.0), metal=(0.001, 0.03), n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(*omega, n), rng.uniform(*temp, n), rng.uniform(*metal, n)])


def _max_change(a, b, points):
    return np.abs(to_callable(a, NAMES)(points) - to_callable(b, NAMES)(points)).max()


def test_log_of_a_huge_argument_becomes_log_x_plus_a_constant():
    """The issue's equation: 1.149 log(4.99e11 Omega_m + 1) / log10 T, with 4.99e11 Omega_m
    >> 1 on the domain, is 1.149 (log Omega_m + 26.94) / log10 T."""
    expr = sp.Float(1.149) * sp.log(sp.Float(4.99e11) * OM + 1) / T + 489 * Z**2
    points = _points()
    new, steps = readable_form(expr, NAMES, points, tolerance=1e-6)
    assert [s.rule for s in steps] == ["log"]
    assert not new.has(sp.Float(4.99e11)) and new.has(sp.log(OM))
    assert _max_change(new, expr, points) < 1e-9  # the neglected 1 is 1e-11 of the argument
    # where the argument is not large everywhere (a x ~ 1) the rewrite is refused
    mild = sp.log(3 * OM + 1) / T
    assert readable_form(mild, NAMES, points, tolerance=0.01)[1] == []


def test_exp_of_a_small_argument_becomes_linear():
    expr = 2 * sp.exp(sp.Float(0.003) * Z) + T
    points = _points()
    new, steps = readable_form(expr, NAMES, points, tolerance=1e-6)
    assert [s.rule for s in steps] == ["exp"] and not new.has(sp.exp)
    assert sp.simplify(new - (2 * (1 + sp.Float(0.003) * Z) + T)) == 0
    # |u| up to 0.09 * 7 ~ 0.6: no rewrite
    assert readable_form(sp.exp(sp.Float(0.09) * T), NAMES, points, tolerance=1e-3)[1] == []


def test_a_piece_constant_on_the_domain_becomes_a_constant():
    """A term that varies by < 0.1% where the data are is its mean; the tolerance guards the
    whole prediction."""
    piece = 1 + sp.Float(1e-6) * T
    expr = OM * piece + Z
    points = _points()
    new, steps = readable_form(expr, NAMES, points, tolerance=1e-5)
    assert [s.rule for s in steps] == ["constant"]
    assert not new.has(T)
    assert _max_change(new, expr, points) <= 1e-5
    assert steps[0].max_change == pytest.approx(_max_change(new, expr, points))
    # with a tolerance below the change it makes, the piece stays
    assert readable_form(OM * (1 + sp.Float(1e-4) * T) + Z, NAMES, points, tolerance=1e-7)[1] == []


def test_a_readable_equation_is_left_alone():
    expr = sp.Rational(3, 5) * sp.log(OM) + sp.Float(0.2) * T - 4 * Z
    assert readable_form(expr, NAMES, _points(), tolerance=1e-3) == (expr, [])


def test_the_search_replaces_degenerate_forms_before_the_choice():
    """discover(): a planted y = log10(Omega_m) + ... ; whatever the engine writes, no chosen
    equation keeps a constant above 1e6 (the mark of log(a x + 1), a x >> 1)."""
    from pipeline.discovery.sr.search import SROptions, _readable

    class C:  # the fields _readable reads of a Candidate
        def __init__(self, expr):
            self.expr, self.seed, self.found_in, self.snapped = expr, 0, "linear", []

    degenerate = C(sp.Float(0.4343) * sp.log(sp.Float(5e11) * OM + 1) + T)
    points = _points()
    y = to_callable(degenerate.expr, NAMES)(points)
    made = []

    def candidate(expr, seed, space):
        made.append(expr)
        return C(expr)

    out = _readable({"k": degenerate}, [degenerate], NAMES, (points, y), points, False,
                    SROptions(), candidate)
    (new,) = out.values()
    assert new.rewritten[0].rule == "log"
    assert all(abs(float(a)) < 1e6 for a in new.expr.atoms(sp.Float))
    assert np.abs(to_callable(new.expr, NAMES)(points) - y).max() < 1e-6


def test_a_large_constant_term_is_normalised_exactly():
    """log(223306 p + 79810) (a transfer-bench equation) is log(2.798 p + 1) + log(79810); a
    fractional power alike; nothing moves."""
    p = sp.Symbol("Omega_m")
    expr = sp.Float(0.5168) * sp.log(sp.Float(223306.0) * p + sp.Float(79810.0)) + sp.Float(11.16)
    points = _points()
    new, steps = readable_form(expr, NAMES, points, tolerance=1e-9)
    assert [s.rule for s in steps] == ["normalise"]
    assert max(abs(float(a)) for a in new.atoms(sp.Float)) < 20
    assert _max_change(new, expr, points) < 1e-9
    root = (sp.Float(1125.67) * p + sp.Float(263.89)) ** sp.Rational(1, 4) / 3
    new, steps = readable_form(root, NAMES, points, tolerance=1e-9)
    assert [s.rule for s in steps] == ["normalise"] and _max_change(new, root, points) < 1e-9
    assert max(abs(float(a)) for a in new.atoms(sp.Float)) < 10
    # a constant term near 1 is left as it is
    assert readable_form(sp.log(3 * p + sp.Float(1.5)), NAMES, points, tolerance=1e-3)[1] == []
