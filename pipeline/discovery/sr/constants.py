"""Constants of a discovered expression: least-squares refit with uncertainties, and equivalence
of two expressions up to the values of their constants.

A "constant" is every floating-point number in the sympy tree (``sp.Float``); integers and
rationals (the 2 of a square, the 1/2 of a square root) are structure, not constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from .expressions import lambdified

__all__ = ["free_constants", "RefitResult", "refit_constants", "equivalent_up_to_constants"]


def free_constants(expr: sp.Expr) -> tuple[sp.Expr, list[sp.Symbol], np.ndarray]:
    """``expr`` with each occurrence of a Float replaced by its own symbol ``_c0, _c1, ...`` (in
    tree order; two equal numbers stay two constants), the symbols, and the original values."""
    symbols: list[sp.Symbol] = []
    values: list[float] = []

    def replace(node: sp.Basic) -> sp.Basic:
        if isinstance(node, sp.Float):
            symbols.append(sp.Symbol(f"_c{len(symbols)}"))
            values.append(float(node))
            return symbols[-1]
        if not node.args:
            return node
        return node.func(*[replace(a) for a in node.args], evaluate=False)

    return replace(expr), symbols, np.array(values)


def _residual_function(template: sp.Expr, names: list[str], symbols: list[sp.Symbol],
                       x: np.ndarray, target: np.ndarray, log_space: bool = False):
    """Residuals ``f(x; theta) - target``, or ``ln f - ln target`` with ``log_space``."""
    fn = lambdified((*names, *(str(c) for c in symbols)), template)
    columns = [x[:, i] for i in range(x.shape[1])]
    if log_space:
        target = np.log(target)

    def residual(theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            pred = np.broadcast_to(np.asarray(fn(*columns, *theta), dtype=float), target.shape)
            if log_space:
                pred = np.log(pred)
        out = pred - target
        return np.where(np.isfinite(out), out, 1e6)  # steer the solver out of invalid regions

    return residual


@dataclass(frozen=True)
class RefitResult:
    """Refitted expression, its constants [same units as they enter the expression] with
    1-sigma uncertainties (from the Jacobian, scaled by the residual variance), the RMS
    residual of the refit, the template whose symbols ``_c0, _c1, ...`` the values fill, and the
    constants' covariance matrix (NaN where JtJ is singular: constants traded against each other)."""

    expr: sp.Expr
    values: np.ndarray
    errors: np.ndarray
    rms: float
    template: sp.Expr
    covariance: np.ndarray
    #: singular values of the Jacobian with each column scaled by its constant's magnitude (the
    #: response to a relative change of each constant), largest first; empty without constants
    singular_values: np.ndarray = field(default_factory=lambda: np.zeros(0))


def refit_constants(expr: sp.Expr, names: list[str], x: np.ndarray, y: np.ndarray,
                    log_space: bool = False) -> RefitResult:
    """Least-squares refit of the constants of ``expr`` (over the columns ``names`` of ``x``) to
    ``y``, starting from the engine's values.

    With ``log_space`` the residuals are ``ln f - ln y`` (multiplicative scatter; ``y > 0``) and
    ``rms`` is in natural-log units.
    """
    template, symbols, start = free_constants(expr)
    if not symbols:
        residual = _residual_function(template, names, [], x, y, log_space)
        return RefitResult(expr, start, start, float(np.sqrt(np.mean(residual(start) ** 2))), template,
                           np.zeros((0, 0)))
    residual = _residual_function(template, names, symbols, x, y, log_space)
    # the trust-region solver, not MINPACK's Levenberg-Marquardt: with scipy 1.17 the same 'lm'
    # fit of the same data gives different constants from call to call (measured: 315 or 322
    # evaluations, constants apart in the third digit, on a degenerate equation; an analytic
    # Jacobian does not help), so a search's table depended on the run. 'trf' repeats exactly.
    fit = least_squares(residual, start, method="trf")
    dof = max(len(y) - len(start), 1)
    s2 = float(np.sum(fit.fun**2) / dof)
    jtj = fit.jac.T @ fit.jac
    try:
        covariance = np.linalg.inv(jtj) * s2
        variances = np.diag(covariance)
        # a non-positive variance is round-off of a singular JtJ: constants traded against
        # each other (c0 + c1 c4 ...) have no separate error, not an error of 0
        errors = np.where(variances > 0, np.sqrt(np.abs(variances)), np.nan)
        if not (variances > 0).all():
            covariance = np.full_like(covariance, np.nan)
    except np.linalg.LinAlgError:  # degenerate constants (e.g. c0 * c1): no separate errors
        errors = np.full(len(start), np.nan)
        covariance = np.full((len(start), len(start)), np.nan)
    refit = template.xreplace({s: sp.Float(v, 15) for s, v in zip(symbols, fit.x, strict=True)})
    scaled = fit.jac * np.where(fit.x != 0, np.abs(fit.x), 1.0)
    singular = (np.linalg.svd(scaled, compute_uv=False) if np.isfinite(scaled).all()
                else np.full(len(start), np.nan))
    return RefitResult(refit, fit.x, errors, float(np.sqrt(np.mean(fit.fun**2))), template,
                       covariance, singular)


def equivalent_up_to_constants(candidate: sp.Expr, reference: sp.Expr, names: list[str],
                               x: np.ndarray, rtol: float = 1e-3,
                               offset_and_scale: bool = True) -> bool:
    """Whether ``candidate`` equals ``reference`` for some values of the reference's constants
    (its Floats), on the sample points ``x`` (n, len(names)), the data's own domain.

    With ``offset_and_scale`` (default), as SRBench's symbolic-solution criterion, the two may
    also differ by an additive constant and an overall factor: engines that scale every
    candidate linearly (operon) return ``a f(x) + b`` with a small, noise-fitted ``b``.

    Symbolic first (sympy simplifies the difference to zero); otherwise numeric: the reference's
    constants are fitted to the candidate's values, and the forms are equivalent when the RMS
    difference is below ``rtol`` x the candidate's spread (so ``2.01 x0 (1 - 0.29 x1)`` matches
    ``a x0 (1 - b x1)``, but a polynomial that only approximates a logarithm does not).
    """
    try:
        if sp.simplify(candidate - reference) == 0:
            return True
    except (TypeError, ValueError, RecursionError):
        pass
    fn = lambdified(tuple(names), candidate)
    with np.errstate(all="ignore"):
        target = np.broadcast_to(np.asarray(fn(*x.T), dtype=float), (len(x),)).copy()
    if not np.isfinite(target).all():
        return False
    scale = float(np.std(target)) or float(np.sqrt(np.mean(target**2))) or 1.0
    template, symbols, start = free_constants(reference)
    if offset_and_scale:
        gain, offset = sp.Symbol("_gain"), sp.Symbol("_offset")
        template, symbols = gain * template + offset, [*symbols, gain, offset]
        start = np.append(start, [1.0, 0.0])
    residual = _residual_function(template, names, symbols, x, target)
    if not symbols:
        return float(np.sqrt(np.mean(residual(np.zeros(0)) ** 2))) <= rtol * scale
    best = np.inf
    # a few starts: the candidate's constants may sit far from the reference's defaults
    for guess in (start, np.ones_like(start), -start):
        fit = least_squares(residual, guess, method="trf", x_scale="jac", max_nfev=2000)
        best = min(best, float(np.sqrt(np.mean(fit.fun**2))))
        if best <= rtol * scale:
            return True
    return False
