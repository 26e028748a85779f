"""How well a candidate equation is conditioned, and the reparametrisation of its degenerate
constants.

A closed form earns its place only if its constants are measured and its terms do not cancel.
Two measures, on the rows the constants are fitted to:

``cancellation``
    the largest term of the correction f (a summand that depends on the features; numbers do not
    count) relative to f itself, as root mean squares over the rows: ``max_i rms(t_i) / rms(f)``,
    over the summands of f as written and of f with its products of sums multiplied out (the
    larger of the two). A form whose terms of about +-390 sum to a correction of about 18 has 22:
    a 1% shift of one term's inputs moves the prediction by 4 dex. Both views are needed: written,
    ``-380.9 + 5 (A e^(...) + 0.2)(1192.5 c + ...) / (3 c)`` shows the term of 398 that the
    constant cancels (multiplied out, sympy adds 398 and -380.9 into one number); multiplied out,
    ``17 + (A - B x) g`` shows the two terms that cancel inside the first factor.
``identifiability``
    each constant's 1-sigma error (from the Jacobian, scaled by the residual variance) relative to
    its value; a constant with error >= |value|, or none (a singular Jacobian: constants traded
    against each other, as c0 c1), is *undetermined*: only combinations of it with others are
    measured. With it, the condition number of the Jacobian whose columns are scaled by the
    constants' magnitudes (largest over smallest singular value).

An equation with an undetermined constant or with cancellation above ``sr.max_cancellation``
(default 10) is never chosen (:mod:`pipeline.discovery.sr.search`). Before the choice,
:func:`reparametrise` fixes degenerate constants to simple numbers where the data allow, as
snapping does (:mod:`.snapping`): the equation then keeps only the directions the data measure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .constants import RefitResult, refit_constants
from .expressions import to_callable
from .snapping import SnapStep, paired_excess_se

__all__ = ["Conditioning", "conditioning", "cancellation_ratio", "reparametrise",
           "undetermined"]


@dataclass(frozen=True)
class Conditioning:
    """The conditioning of a fitted equation (see the module docstring)."""

    cancellation: float
    n_constants: int
    n_undetermined: int
    worst_relative_error: float
    condition_number: float

    def problems(self, max_cancellation: float) -> list[str]:
        """Why the equation may not be chosen (empty when it may)."""
        out = []
        if self.n_undetermined:
            out.append(f"{self.n_undetermined} undetermined constant(s) (1-sigma error >= value)")
        if not self.cancellation <= max_cancellation:
            out.append(f"cancelling terms (largest term {self.cancellation:.3g} x the correction, "
                       f"above {max_cancellation:g})")
        return out


def undetermined(fit: RefitResult) -> np.ndarray:
    """Per constant: its 1-sigma error is not finite or at least its magnitude."""
    errors = np.asarray(fit.errors, dtype=float)
    values = np.abs(np.asarray(fit.values, dtype=float))
    return ~(np.isfinite(errors) & (errors < values))


#: most terms a multiplied-out equation may have before the measure falls back to its top level
MAX_EXPANDED_TERMS = 200


def _terms(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """The summands of ``expr`` as written and with its products of sums multiplied out (not
    inside functions or under negative or fractional powers; left out if that gives more than
    :data:`MAX_EXPANDED_TERMS`)."""
    written = expr.args if expr.is_Add else (expr,)
    try:
        expanded = sp.expand(expr, power_base=False, power_exp=False, log=False)
    except (RecursionError, MemoryError, ValueError, TypeError):
        return written
    multiplied = expanded.args if expanded.is_Add else (expanded,)
    if len(multiplied) > MAX_EXPANDED_TERMS:
        return written
    return tuple(dict.fromkeys((*written, *multiplied)))


def cancellation_ratio(expr: sp.Expr, names: list[str], x: np.ndarray) -> float:
    """``max_i rms(t_i) / rms(f)`` over the rows of ``x`` for the summands ``t_i`` of ``expr``,
    as written and multiplied out, that depend on a feature; 0 for an equation without features,
    inf where f is 0."""
    terms = [t for t in _terms(expr) if t.free_symbols]
    if not terms:
        return 0.0
    total = to_callable(expr, names)(x)
    rms_total = float(np.sqrt(np.mean(total**2)))
    largest = max(float(np.sqrt(np.mean(to_callable(t, names)(x) ** 2))) for t in terms)
    if not math.isfinite(largest):
        return math.inf
    return largest / rms_total if rms_total > 0 else math.inf


def conditioning(fit: RefitResult, names: list[str], x: np.ndarray) -> Conditioning:
    """The measures of :class:`Conditioning` for ``fit`` (a refit on the rows of ``x``)."""
    bad = undetermined(fit)
    values = np.abs(np.asarray(fit.values, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(values > 0, np.asarray(fit.errors, dtype=float) / values, np.inf)
    relative = np.where(np.isfinite(relative), relative, np.inf)
    singular = np.asarray(fit.singular_values, dtype=float)
    if singular.size and np.isfinite(singular).all():
        condition = float(singular[0] / singular[-1]) if singular[-1] > 0 else math.inf
    else:
        condition = math.inf if singular.size else 1.0
    return Conditioning(cancellation=cancellation_ratio(fit.expr, names, x),
                        n_constants=len(values), n_undetermined=int(bad.sum()),
                        worst_relative_error=float(relative.max()) if relative.size else 0.0,
                        condition_number=condition)


def _fixed_values(value: float) -> list[sp.Rational]:
    """The simple numbers a degenerate constant is tried at, simplest first: 0 (the term goes),
    +-1 (a redundant scale), then the value to one and to two significant digits."""
    out = [sp.Integer(0), sp.Integer(1), sp.Integer(-1)]
    if value != 0 and math.isfinite(value):
        for digits in (1, 2):
            rounded = float(f"{value:.{digits - 1}e}")
            out.append(sp.nsimplify(rounded, rational=True))
    return list(dict.fromkeys(out))


def reparametrise(expr: sp.Expr, names: list[str], x_tr: np.ndarray, y_tr: np.ndarray,
                  x_val: np.ndarray, y_val: np.ndarray, log_space: bool = False,
                  z: float = 2.0) -> tuple[sp.Expr, list[SnapStep]]:
    """``expr`` with its undetermined constants (fitted on the training split) fixed, one at a
    time (least determined first), to the first of :func:`_fixed_values` whose refitted equation's
    validation loss exceeds the original's by at most ``z`` paired standard errors; stops when
    every constant is determined or none can be fixed. Returns the equation (constants fitted on
    the training split) and the accepted steps (as snapping records them)."""

    def sq_residuals(e: sp.Expr) -> np.ndarray:
        pred = to_callable(e, names)(x_val)
        with np.errstate(all="ignore"):
            res = np.log(pred) - np.log(y_val) if log_space else pred - y_val
        return np.where(np.isfinite(res), res**2, np.inf)

    current = refit_constants(expr, names, x_tr, y_tr, log_space)
    sq_ref = sq_residuals(current.expr)
    steps: list[SnapStep] = []
    if not np.isfinite(sq_ref).all():
        return current.expr, steps
    while (bad := undetermined(current)).any():
        symbols = sorted(current.template.atoms(sp.Symbol) - {sp.Symbol(n) for n in names},
                         key=lambda s: int(s.name[2:]))
        values, errors = np.asarray(current.values), np.asarray(current.errors)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(np.isfinite(errors), errors / np.abs(values), np.inf)
        accepted = False
        for i in sorted(np.flatnonzero(bad), key=lambda k: (-relative[k], k)):
            others = {s: sp.Float(v, 15) for j, (s, v) in enumerate(zip(symbols, values,
                                                                         strict=True)) if j != i}
            for number in _fixed_values(float(values[i])):
                trial_expr = current.template.xreplace({symbols[i]: number, **others})
                if not trial_expr.free_symbols or trial_expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
                    continue
                trial = refit_constants(trial_expr, names, x_tr, y_tr, log_space)
                excess = float(paired_excess_se(sq_residuals(trial.expr), sq_ref)[0])
                if excess <= z:
                    steps.append(SnapStep(float(values[i]), float(errors[i]), str(number), excess))
                    current, accepted = trial, True
                    break
            if accepted:
                break
        if not accepted:
            break
    return current.expr, steps
