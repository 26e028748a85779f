"""Snapping of fitted constants to the simple numbers the data cannot tell them apart from.

An engine returns every number as a fitted float: ``x0**1.005``, ``0.499*log(x1)``,
``0.002*x2 + ...``. When a constant lies within ``n_sigma`` (default 3) 1-sigma errors of a
simple rational ``p/q`` (``q <= max_denominator``; 0 included, which drops the term), it is fixed to that
number and the remaining constants are refitted, one constant at a time (closest first, in
units of its error) — accepted only when the validation loss of the snapped equation exceeds the
unsnapped one's by at most ``z`` standard errors of the paired per-halo difference. This is the
rationalisation step of AI Feynman (Udrescu & Tegmark 2020), with a statistical acceptance test
instead of a fixed tolerance: a snapped exponent of 1 or 1/2 makes a structure (``x0``,
``sqrt(x0)``) out of a number, which is what a reader compares with theory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .constants import refit_constants
from .expressions import to_callable

__all__ = ["nearest_simple", "paired_excess_se", "snap_constants", "SnapStep", "squared_residuals"]


def nearest_simple(value: float, max_denominator: int = 3, max_abs: float = 10.0) -> sp.Rational | None:
    """The rational ``p/q`` (``1 <= q <= max_denominator``, ``|p/q| <= max_abs``) closest to
    ``value``; None when none is within ``max_abs``."""
    best = None
    for q in range(1, max_denominator + 1):
        p = round(value * q)
        if abs(p / q) > max_abs:
            continue
        candidate = sp.Rational(p, q)
        if best is None or abs(value - float(candidate)) < abs(value - float(best)):
            best = candidate
    return best


@dataclass(frozen=True)
class SnapStep:
    """One accepted snap: the fitted value and its 1-sigma error, the number it was fixed to,
    and the snapped equation's excess validation loss in paired standard errors."""

    value: float
    error: float
    to: str
    excess_se: float


def paired_excess_se(sq: np.ndarray, sq_ref: np.ndarray) -> np.ndarray:
    """Mean of ``sq - sq_ref`` (per-halo squared residuals; ``sq`` one row per equation) in units
    of its standard error, per row; +inf where worse and the difference has no spread."""
    diff = np.atleast_2d(sq) - sq_ref
    mean = diff.mean(axis=1)
    se = diff.std(axis=1, ddof=1) / np.sqrt(diff.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, mean / se, np.where(mean > 0, np.inf, 0.0))


def squared_residuals(expr: sp.Expr, names: list[str], x: np.ndarray, y: np.ndarray,
                      log_space: bool = False) -> np.ndarray:
    """Per-row squared residual of ``expr`` on ``x``, ``y`` (in ``ln y`` with ``log_space``); inf
    where it is not finite (the acceptance tests of snapping and reparametrisation)."""
    pred = to_callable(expr, names)(x)
    with np.errstate(all="ignore"):
        res = np.log(pred) - np.log(y) if log_space else pred - y
    return np.where(np.isfinite(res), res**2, np.inf)


def snap_constants(expr: sp.Expr, names: list[str], x_tr: np.ndarray, y_tr: np.ndarray,
                   x_val: np.ndarray, y_val: np.ndarray, log_space: bool = False, z: float = 1.0,
                   n_sigma: float = 3.0, max_denominator: int = 3) -> tuple[sp.Expr, list[SnapStep]]:
    """Snap the constants of ``expr`` as the module docstring says; constants are fitted and
    their errors estimated on the training split, the acceptance test uses the validation split.
    Residuals are in ``ln y`` with ``log_space``. Returns the snapped expression (constants
    fitted on the training split) and the accepted steps, in order."""

    def sq_residuals(e: sp.Expr) -> np.ndarray:
        return squared_residuals(e, names, x_val, y_val, log_space)

    current = refit_constants(expr, names, x_tr, y_tr, log_space)
    sq_ref = sq_residuals(current.expr)
    if not np.isfinite(sq_ref).all():
        return current.expr, []
    steps: list[SnapStep] = []
    while True:
        symbols = sorted(current.template.atoms(sp.Symbol) - {sp.Symbol(n) for n in names},
                         key=lambda s: int(s.name[2:]))
        tries = []
        for i, (v, e) in enumerate(zip(current.values, current.errors, strict=True)):
            simple = nearest_simple(float(v), max_denominator)
            # a constant without a finite error is degenerate with others: any value fits
            e = e if np.isfinite(e) else np.inf
            if simple is not None and abs(v - float(simple)) <= n_sigma * e:
                tries.append((abs(v - float(simple)) / max(e, 1e-300), i, simple))
        accepted = False
        for _, i, simple in sorted(tries, key=lambda t: t[0]):
            values = {s: sp.Float(v, 15) for j, (s, v) in enumerate(zip(symbols, current.values,
                                                                          strict=True)) if j != i}
            trial_expr = current.template.xreplace({symbols[i]: simple, **values})
            if not trial_expr.free_symbols or trial_expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
                continue  # a relation turned constant, or a 0 put under a log or a division
            trial = refit_constants(trial_expr, names, x_tr, y_tr, log_space)
            excess = float(paired_excess_se(sq_residuals(trial.expr), sq_ref)[0])
            if excess <= z:
                steps.append(SnapStep(float(current.values[i]), float(current.errors[i]),
                                      str(simple), excess))
                current, accepted = trial, True
                break
        if not accepted:
            return current.expr, steps
