"""Choosing equations on data they were not fitted to, and that differ the way a new code or a new
parameter set differs (``sr.choice_data: transfer``).

With two or more training samples (suites, sets): **leave one sample out**. For every candidate
equation and every training sample, the constants are refitted on the other samples and the
equation is scored on the one left out; each halo's out-of-sample residual enters the choice rule
in place of a validation residual. ``sr.transfer_aggregate``: ``mean`` weighs every left-out
sample equally (each halo by 1 / (number of samples x haloes of its sample)); ``worst`` judges
each candidate by the left-out sample where it does worst. Validation inside one code cannot
tell code-specific structure from transferable structure; a second code can.

With one training sample: an **extrapolation split**. The simulations at the extremes of each
varied parameter (the lowest and highest ``extremes_fraction`` of its distinct values, at least
one each side, at most half the simulations in all) are held out for validation: the choice then
rewards equations that hold beyond the parameter range they were fitted on.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .constants import refit_constants
from .expressions import to_callable

__all__ = ["leave_one_sample_out", "extremes_split", "weighted_choice"]


def leave_one_sample_out(expr: sp.Expr, names: list[str], x: np.ndarray, y: np.ndarray,
                         samples: np.ndarray, log_space: bool = False) -> np.ndarray:
    """Per-halo residual of ``expr`` with its constants refitted on every sample but the halo's
    own (in ``ln y`` with ``log_space``); NaN where the refitted equation is not finite."""
    out = np.full(len(y), np.nan)
    for sample in np.unique(samples):
        left_out = samples == sample
        fitted = refit_constants(expr, names, x[~left_out], y[~left_out], log_space=log_space).expr
        with np.errstate(all="ignore"):
            pred = to_callable(fitted, names)(x[left_out])
            out[left_out] = np.log(pred) - np.log(y[left_out]) if log_space else pred - y[left_out]
    return out


def extremes_split(sims: np.ndarray, params: np.ndarray, fraction: float,
                   ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(training indices, validation indices, validation simulations): the simulations whose
    value of some varied parameter (columns of ``params``, one row per halo, constant within a
    simulation) is among the lowest or highest ``fraction`` of that parameter's distinct values
    (at least one each side; a 1P set's fiducial simulations are never extreme), at most half
    the simulations in all (those of the most extreme values first)."""
    names, first = np.unique(np.asarray(sims).astype(str), return_index=True)
    per_sim = np.asarray(params, dtype=float)[first]
    extremeness = np.full(len(names), np.inf)  # rank of a simulation's most extreme value
    for j in range(per_sim.shape[1]):
        column = per_sim[:, j]
        values = np.unique(column[np.isfinite(column)])
        if len(values) < 3:
            continue
        k = max(1, int(round(fraction * len(values))))
        for rank, (low, high) in enumerate(zip(values[:k], values[::-1][:k], strict=True)):
            hit = (column == low) | (column == high)
            extremeness[hit] = np.minimum(extremeness[hit], rank)
    order = [i for i in np.argsort(extremeness, kind="stable") if np.isfinite(extremeness[i])]
    held = set(names[order[:len(names) // 2]].tolist())
    is_val = np.isin(np.asarray(sims).astype(str), list(held))
    return np.flatnonzero(~is_val), np.flatnonzero(is_val), sorted(held)


def weighted_choice(complexity: np.ndarray, sq: np.ndarray, weights: np.ndarray, z: float,
                    tolerance: float, groups: np.ndarray | None = None,
                    worst: bool = False, clusters: np.ndarray | None = None,
                    allowed: np.ndarray | None = None) -> tuple[int, np.ndarray, np.ndarray]:
    """The paired choice rule on weighted per-halo squared residuals ``sq`` (n_equations,
    n_haloes): (chosen index, loss per equation, excess over the best in paired standard errors).

    Loss: the weighted mean, or with ``worst`` the largest per-group (left-out sample) mean. The
    paired error of an excess is that of the weighted mean difference (in the group where the
    best equation does worst, with ``worst``). With ``clusters`` (each halo's simulation) the
    error is cluster-robust: haloes of one simulation share its offsets, so the difference is
    summed per simulation and its spread taken across simulations (with the G / (G - 1)
    small-sample factor); per-halo errors would count 600 haloes of 6 simulations as 600
    independent draws and prefer an equation that fits the offsets of the training codes'
    simulations. The simplest equation within ``z`` errors and ``tolerance`` x the best loss is
    chosen; only ``allowed`` equations (default all; the search passes the well-conditioned
    ones, :mod:`.conditioning`) set the best loss or are chosen."""
    w = np.asarray(weights, dtype=float)
    if worst:
        assert groups is not None, "the worst-group rule needs the groups"
        labels = np.unique(groups)
        per_group = np.array([[np.average(row[groups == g]) for g in labels] for row in sq])
        loss = per_group.max(axis=1)
    else:
        loss = sq @ w / w.sum()
    allowed = np.ones(len(loss), dtype=bool) if allowed is None else np.asarray(allowed, bool)
    if not allowed.any():
        raise ValueError("no equation of the front may be chosen")
    best = int(np.nanargmin(np.where(allowed, loss, np.nan)))
    rows = np.ones(sq.shape[1], dtype=bool)
    if worst:
        rows = groups == labels[int(np.argmax(per_group[best]))]
    ww = w[rows] / w[rows].sum()
    diff = sq[:, rows] - sq[best, rows]
    mean = diff @ ww
    centred = (diff - mean[:, None]) * ww
    if clusters is None:
        var = (centred**2).sum(axis=1)
    else:
        labels, index = np.unique(np.asarray(clusters)[rows], return_inverse=True)
        per_cluster = np.zeros((len(diff), len(labels)))
        np.add.at(per_cluster.T, index, centred.T)
        var = (per_cluster**2).sum(axis=1) * len(labels) / max(len(labels) - 1, 1)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(se > 0, (loss - loss[best]) / se, np.where(loss > loss[best], np.inf, 0.0))
    excess[best] = 0.0
    floor = 1e-12 * float(np.nanmax(loss[np.isfinite(loss)]))
    eligible = allowed & (excess <= z) & (loss <= tolerance * loss[best] + floor)
    return int(np.flatnonzero(eligible)[0]), loss, excess
