"""Scatter metrics of a relation's residuals, and their intervals by a paired cluster bootstrap.

Residual of a halo: r = log10(predicted) - log10(true) of the target's y [dex]. Over a set of
haloes (a suite, a mass bin of it, one simulation):

``bias_log``
    mean(r) [dex]: the offset of the relation with its constants as fitted on the training
    suites ("frozen"); a held-out suite pays here for a normalisation that does not transfer.
``scatter_log``
    std(r) about the set's own mean [dex] (ddof = 1): the scatter a normalisation refitted on
    the set would leave; a pure offset does not change it.
``scatter_frac``
    std(q) / mean(q) with q = 10^r = predicted / true: the fractional scatter of the ratio about
    its own mean (coefficient of variation). A pure offset multiplies q by a constant and leaves
    it unchanged; for small scatter it is ln(10) scatter_log (0.1 dex -> 0.23).
``rms_log``
    sqrt(mean(r^2)) [dex]: the whole error of the relation as fitted, offset included
    (rms^2 = bias^2 + (n - 1)/n scatter^2).
``frac_within_0p1dex`` / ``frac_within_0p2dex``
    fraction of the haloes with |r| <= 0.1 (0.2) dex, constants as trained (the measure of
    Shao et al. 2022 for subhalo masses); a diverged halo counts as outside (it is not left out).
``reduction_log`` / ``reduction_frac``
    1 - scatter(relation) / scatter(baseline), on the haloes both relations score (paired).
    Per simulation (the per-simulation table and figure) only where the simulation has at
    least ``evaluate.min_halos_per_sim`` (10) such haloes: a scatter of two stacks is no
    statistic; bias_log and rms_log are given for every simulation.

Intervals: a paired cluster bootstrap. The sampling unit is the simulation: haloes of one
simulation share its cosmology and feedback parameters (and, across snapshots, their
progenitors), so they are not independent draws. Each resample draws a set's simulations with
replacement and takes all their haloes, for every relation alike (same draws: paired). With
fewer than ``min_clusters`` simulations the haloes are resampled instead, and the row says so.
Percentile intervals at 68% and 95%. Each resample is a vector of cluster counts, and every
metric is a function of per-cluster sums (n, sum r, sum r^2, sum q, sum q^2), so a resample
costs one matrix product whatever the number of haloes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METRICS", "LEVELS", "WITHIN_DEX", "ClusterSums", "cluster_sums", "metrics_from_sums",
           "resample_counts", "interval_columns", "reduction", "within_fractions"]

#: Metrics of one relation over one set of haloes, in table order.
METRICS = ("bias_log", "scatter_log", "scatter_frac", "rms_log")
#: Thresholds [dex] of the frac_within_<t>dex columns.
WITHIN_DEX = (0.1, 0.2)
#: Central interval levels [%] of every bootstrapped quantity: columns <name>_lo68, _hi68, ...
LEVELS = (68, 95)


class ClusterSums:
    """Per-cluster sufficient statistics of residuals r [dex]: arrays of shape (n_clusters,)."""

    def __init__(self, n, s1, s2, q1, q2):
        self.n, self.s1, self.s2, self.q1, self.q2 = n, s1, s2, q1, q2

    def resampled(self, counts: np.ndarray) -> ClusterSums:
        """Sums over resamples: ``counts`` (n_draws, n_clusters) times each cluster's sums."""
        return ClusterSums(*(counts @ a for a in (self.n, self.s1, self.s2, self.q1, self.q2)))

    def total(self) -> ClusterSums:
        return ClusterSums(*(np.sum(a) for a in (self.n, self.s1, self.s2, self.q1, self.q2)))


def cluster_sums(resid_log: np.ndarray, cluster: np.ndarray, n_clusters: int) -> ClusterSums:
    """Sums of r, r^2, q = 10^r and q^2 per cluster (``cluster``: index 0..n_clusters-1 of
    each residual)."""
    r = np.asarray(resid_log, dtype=float)
    q = 10.0**r

    def per(w):
        return np.bincount(cluster, weights=w, minlength=n_clusters)

    return ClusterSums(per(np.ones_like(r)), per(r), per(r * r), per(q), per(q * q))


def metrics_from_sums(s: ClusterSums) -> dict[str, np.ndarray]:
    """bias_log, scatter_log, scatter_frac, rms_log from (resampled) sums; NaN where fewer than
    two haloes."""
    n = np.asarray(s.n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = n >= 2
        mean = np.where(ok, s.s1 / n, np.nan)
        var = np.where(ok, (s.s2 - s.s1 * s.s1 / n) / (n - 1), np.nan)
        q_mean = np.where(ok, s.q1 / n, np.nan)
        q_var = np.where(ok, (s.q2 - s.q1 * s.q1 / n) / (n - 1), np.nan)
        return {
            "bias_log": mean,
            "scatter_log": np.sqrt(np.maximum(var, 0.0)),
            "scatter_frac": np.sqrt(np.maximum(q_var, 0.0)) / q_mean,
            "rms_log": np.where(ok, np.sqrt(s.s2 / n), np.nan),
        }


def resample_counts(n_clusters: int, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(n_draws, n_clusters) counts of each cluster in a resample with replacement."""
    return rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_draws)


def interval_columns(name: str, draws: np.ndarray) -> dict[str, float]:
    """``<name>_lo68``, ``_hi68``, ``_lo95``, ``_hi95``: percentile intervals of ``draws``."""
    out = {}
    finite = draws[np.isfinite(draws)]
    for level in LEVELS:
        tail = 50.0 - level / 2.0
        lo, hi = (np.percentile(finite, [tail, 100.0 - tail]) if finite.size
                  else (np.nan, np.nan))
        out[f"{name}_lo{level}"], out[f"{name}_hi{level}"] = float(lo), float(hi)
    return out


def reduction(scatter: np.ndarray, scatter_base: np.ndarray) -> np.ndarray:
    """1 - scatter / scatter_base (NaN where the baseline has none)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - np.asarray(scatter) / np.asarray(scatter_base)


def within_fractions(resid_log: np.ndarray, scored: np.ndarray, cluster: np.ndarray,
                     n_clusters: int, counts: np.ndarray) -> dict[str, tuple[float, np.ndarray]]:
    """``frac_within_<t>dex`` for t in :data:`WITHIN_DEX`: (value, resampled draws). Every halo
    of the set is in the denominator; one not ``scored`` (diverged) counts as outside. ``counts``
    as from :func:`resample_counts` over the same clusters."""
    r = np.asarray(resid_log, dtype=float)
    scored = np.asarray(scored, dtype=bool)
    n = np.bincount(cluster, minlength=n_clusters).astype(float)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for t in WITHIN_DEX:
            inside = scored & (np.abs(np.where(scored, r, np.inf)) <= t)
            k = np.bincount(cluster, weights=inside.astype(float), minlength=n_clusters)
            name = f"frac_within_{t:g}".replace(".", "p") + "dex"
            out[name] = (float(k.sum() / n.sum()) if n.sum() else np.nan,
                         (counts @ k) / (counts @ n))
    return out
