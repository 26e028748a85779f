"""Domain safety: a candidate equation must stay finite and tame on the whole feature domain of the
study, not only at the haloes it was fitted to.

The domain is the box spanned by the training haloes' features, widened by ``margin`` times each
feature's range on both sides, in log for strictly positive features (haloes of a new simulation
or code fall a little outside the training range; stacked profiles leave gaps between mass bins,
where a fitted pole can hide).
A candidate is rejected, with the reason, when on that box

* a denominator, a logarithm's or a root's argument changes sign or reaches zero (a pole, or a
  region where the expression is not real): every such sub-expression is evaluated on the sample
  points below and its range checked, which finds a pole however narrow it is;
* the expression is non-finite anywhere, or strays from the training predictions' median by more
  than ``blowup`` times their 1-99% spread (an exponential or a high power that explodes just
  outside the data);
* its gradient blows up: along some feature, the largest local slope (central differences)
  times the box's width exceeds ``blowup`` times the expression's own variation on the box (a
  step, or a near-pole that stays bounded at the sample points: far steeper somewhere than on
  average). For a positive feature the slope per unit of log counts where it is gentler, so
  that ``log x`` over decades passes, as does ``x``; ``exp(k x)`` passes while ``k`` times the
  box width stays below ``blowup`` e-folds.

The pipeline's SR stage (``sr.domain_includes_holdout``, default true) spans the box over the
held-out samples' features too: their observables (never their targets) say where the relation
will be applied, so it must be safe there. Over their central 99% (:func:`central_extent`):
one outlier must not veto every equation that reads its feature (the real CAMELS TNG 1P stacks
hold a mass-weighted metallicity of 1.6, a hundred times the rest); haloes beyond it are counted
as extrapolation by the evaluation, and as diverged where the relation fails there.

Sample points: the box's corners (up to 6 features), a line of points along each feature through
the box's centre, and uniform random points (seeded).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from .expressions import to_callable

__all__ = ["central_extent", "domain_box", "domain_points", "domain_problem"]


def domain_box(x: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per feature: the range of ``x`` (n, k) widened by ``margin`` x range, in log
    for a strictly positive feature (a mass ratio or a concentration stays positive)."""
    lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    width = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0) * 1e-3)
    positive = lo > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(positive & (hi > lo), hi / np.where(positive, lo, 1.0), 1.001)
    low = np.where(positive, lo * ratio ** -margin, lo - margin * width)
    high = np.where(positive, hi * ratio ** margin, hi + margin * width)
    return low, high


def central_extent(x: np.ndarray, fraction: float = 0.99) -> np.ndarray:
    """Two rows: per feature, the lower and upper bounds of the central ``fraction`` of the finite
    values of ``x`` (n, k); no rows when ``x`` has none."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.empty((0, x.shape[1] if x.ndim == 2 else 0))
    tail = 50.0 * (1.0 - fraction)
    rows = []
    for column in x.T:
        finite = column[np.isfinite(column)]
        if finite.size == 0:
            return np.empty((0, x.shape[1]))
        rows.append(np.percentile(finite, [tail, 100.0 - tail]))
    return np.array(rows).T


def domain_points(lo: np.ndarray, hi: np.ndarray, n_random: int = 4096, n_line: int = 257,
                  seed: int = 0) -> np.ndarray:
    """Sample points of the box (see the module docstring)."""
    k = len(lo)
    centre = 0.5 * (lo + hi)
    parts = [np.random.default_rng(seed).uniform(lo, hi, size=(n_random, k))]
    if k <= 6:
        parts.append(np.array([[hi[i] if bit else lo[i] for i, bit in enumerate(c)]
                               for c in itertools.product((0, 1), repeat=k)]))
    for i in range(k):
        line = np.repeat(centre[None], n_line, axis=0)
        line[:, i] = np.linspace(lo[i], hi[i], n_line)
        parts.append(line)
    return np.vstack(parts)


def _singular_parts(expr: sp.Expr) -> list[tuple[str, sp.Expr]]:
    """Sub-expressions that must keep one sign: denominators, and arguments of logarithms and of
    non-integer powers."""
    out = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.log):
            out.append(("argument of a logarithm", node.args[0]))
        elif isinstance(node, sp.Pow):
            base, exponent = node.as_base_exp()
            if base.free_symbols and exponent.is_number:
                if exponent.is_negative:
                    out.append(("denominator", base))
                if not exponent.is_integer:
                    out.append(("argument of a non-integer power", base))
    return out


def _steepest(fn, names: list[str], points: np.ndarray, box: tuple[np.ndarray, np.ndarray],
              ) -> tuple[float, str]:
    """(largest |slope| x box width over the points, the feature where it is reached). For a
    strictly positive feature the slope is taken both per unit of the feature and per unit of
    its log (with the box width in the same unit) and the gentler of the two counts: a linear
    term and a logarithm are both smooth, each in its own coordinate."""
    lo, hi = box
    worst, where = 0.0, ""
    for i, name in enumerate(names):
        if not hi[i] > lo[i]:
            continue
        coordinates = [(float(hi[i] - lo[i]), False)]
        if lo[i] > 0:
            coordinates.append((float(np.log(hi[i] / lo[i])), True))
        steepness = []
        for width, in_log in coordinates:
            h = 1e-4 * width
            up, down = points.copy(), points.copy()
            if in_log:
                up[:, i] *= np.exp(h)
                down[:, i] *= np.exp(-h)
            else:
                up[:, i] += h
                down[:, i] -= h
            with np.errstate(all="ignore"):
                change = np.abs(fn(up) - fn(down)) / (2 * h) * width
            steepness.append(float(np.max(change)) if np.isfinite(change).all() else np.inf)
        if min(steepness) > worst:
            worst, where = min(steepness), name
    return worst, where


def domain_problem(expr: sp.Expr, names: list[str], points: np.ndarray, train_pred: np.ndarray,
                   blowup: float, box: tuple[np.ndarray, np.ndarray] | None = None) -> str | None:
    """Why ``expr`` is unsafe on the sampled domain ``points`` (n, len(names)), or None.
    ``train_pred``: its predictions at the training haloes (the scale of a blow-up); ``box``:
    the domain's (low, high) per feature, which turns on the gradient check."""
    for what, part in _singular_parts(expr):
        if not part.free_symbols:
            continue
        values = to_callable(part, names)(points)
        finite = values[np.isfinite(values)]
        if finite.size < len(values) or finite.size == 0:
            return f"{what} {part} is not finite on the domain"
        if np.min(finite) <= 0.0 <= np.max(finite):
            return f"{what} {part} reaches zero or changes sign inside the domain"
    pred = to_callable(expr, names)(points)
    if not np.isfinite(pred).all():
        return "not finite on the domain"
    ref = train_pred[np.isfinite(train_pred)]
    if ref.size:
        spread = float(np.subtract(*np.percentile(ref, [99, 1])))
        spread = max(spread, 1e-12 * max(1.0, float(np.max(np.abs(ref)))))
        worst = float(np.max(np.abs(pred - np.median(ref))))
        if worst > blowup * spread:
            return (f"strays {worst / spread:.3g} x the training spread from the training "
                    f"predictions on the domain (limit {blowup:g})")
    variation = float(np.max(pred) - np.min(pred))
    if box is not None and variation > 0:
        steep, feature = _steepest(to_callable(expr, names), names, points, box)
        if steep > blowup * variation:
            return (f"gradient along {feature} reaches {steep / variation:.3g} x the expression's "
                    f"variation on the domain per domain width (limit {blowup:g})")
    return None
