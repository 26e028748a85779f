"""Evaluate: scatter of the self-similar baseline and of the discovered relation, per suite and
mass bin, with bootstrap confidence intervals.

Relations (y = log10 of the predicted quantity):
  self-similar: y = slope * x + b, b fitted on the training suites;
  discovered:   y = slope * x + f(features), f from symbolic regression on the training suites.
Constants ``frozen``: exactly as fitted on the training suites (a held-out suite also pays for any
normalisation offset). Constants ``refit``: the normalisation (an additive constant in log space)
is refitted on each suite, the form and all other constants kept: this isolates the scatter.

Scatter: ``scatter_frac`` = std(M_pred / M_true - 1) (Wadekar et al. 2023) and ``scatter_log`` =
std(log10 M_pred - log10 M_true) [dex]. Intervals: percentile bootstrap over haloes; the scatter
reduction 1 - sigma_discovered / sigma_baseline is bootstrapped on the same resamples (paired).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp
from astropy.table import Table

from ..errors import DataError
from ..provenance import provenance
from .dataset import Target, baseline_intercept, rows_of_suites
from .noise_floor import __doc__ as FLOOR_DEFINITION
from .sr.expressions import to_callable

__all__ = ["EvaluateOptions", "evaluate_relation", "bootstrap_scatter", "halo_residuals"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluateOptions:
    mass_bins: list[float] = field(default_factory=lambda: [12.0, 12.5, 13.0, 15.0])
    bootstrap: int = 1000
    confidence: float = 0.68
    min_halos_per_bin: int = 10
    seed: int = 0
    threads: int = 1  # CPU threads of the mock's noise-floor forests


def _frac(resid_log: np.ndarray) -> np.ndarray | float:
    """Fractional scatter std(10^r - 1) along the last axis (one value per row of a 2-D array)."""
    out = np.std(10.0**resid_log - 1.0, ddof=1, axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def _dex(resid_log: np.ndarray) -> np.ndarray | float:
    """Scatter std(r) [dex] along the last axis."""
    out = np.std(resid_log, ddof=1, axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def bootstrap_scatter(
    resid_base: np.ndarray, resid_disc: np.ndarray, n_boot: int, confidence: float,
    rng: np.random.Generator,
) -> dict[str, tuple[float, float, float]]:
    """Scatter of two paired residual sets (log10 predicted - log10 true) and their ratio.

    Returns name -> (value, low, high) for base_frac, disc_frac, base_log, disc_log and
    reduction_frac = 1 - disc_frac / base_frac, with a central ``confidence`` percentile interval.
    The resamples are drawn as one (n_boot, n) index array and evaluated row-wise, in blocks
    that bound the memory to ~10^6 residuals.
    """
    n = len(resid_base)
    stats = {
        "base_frac": lambda b, d: _frac(b), "disc_frac": lambda b, d: _frac(d),
        "base_log": lambda b, d: _dex(b), "disc_log": lambda b, d: _dex(d),
        "reduction_frac": lambda b, d: 1.0 - _frac(d) / _frac(b),
    }
    idx = rng.integers(0, n, size=(n_boot, n))
    draws = {k: np.empty(n_boot) for k in stats}
    block = max(1, 1_000_000 // max(n, 1))
    for start in range(0, n_boot, block):
        rows = idx[start:start + block]
        b, d = resid_base[rows], resid_disc[rows]
        for k, f in stats.items():
            draws[k][start:start + block] = f(b, d)
    tail = 50.0 * (1.0 - confidence)
    return {
        k: (float(f(resid_base, resid_disc)), float(np.percentile(draws[k], tail)),
            float(np.percentile(draws[k], 100.0 - tail)))
        for k, f in stats.items()
    }


#: The published correction (Wadekar et al. 2023, PNAS 120, e2202074120): M ∝ Y^{3/5} (1 - A c_gas),
#: i.e. log10 M = slope log10 Y + log10(1 - A c_gas) + b, with A and b fitted on the training suites.
PUBLISHED_FORM = "log10 M = 0.6 log10 Y + log10(1 - A c_gas) + b (Wadekar et al. 2023)"


def published_form_applies(table: Table, target: Target) -> bool:
    """The published form is a mass-from-Y relation using c_gas."""
    return (target.y.startswith("log10_M") and target.x.startswith("log10_Y")
            and "c_gas" in table.colnames)


def published_correction(c_gas: np.ndarray, a: float, floor: float | None = None) -> np.ndarray:
    """log10(1 - A c_gas) [dex]; NaN where 1 - A c_gas <= 0, or that clipped at ``floor`` (so
    that a fit can move through such values)."""
    factor = 1.0 - a * np.asarray(c_gas, dtype=float)
    if floor is not None:
        factor = np.maximum(factor, floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(factor > 0, np.log10(np.where(factor > 0, factor, 1.0)), np.nan)


def fit_published_form(table: Table, target: Target) -> tuple[float, float]:
    """(A, b) of :data:`PUBLISHED_FORM` by least squares on ``table`` (the training suites)."""
    from scipy.optimize import least_squares

    r = target.residual(table)
    c = np.asarray(table["c_gas"], dtype=float)
    ok = np.isfinite(r) & np.isfinite(c)
    if ok.sum() < 3:
        raise DataError("published form: fewer than 3 haloes with finite c_gas and residual")
    r, c = r[ok], c[ok]

    def resid(p):
        return published_correction(c, p[0], floor=1e-6) + p[1] - r

    fit = least_squares(resid, [0.1, float(np.mean(r))])
    return float(fit.x[0]), float(fit.x[1])


def _relation_functions(table: Table, target: Target, expression: str, features: list[str],
                        train_suites: list[str]):
    f = to_callable(sp.sympify(expression, locals={n: sp.Symbol(n) for n in features}), features)
    b_train = baseline_intercept(rows_of_suites(table, train_suites), target)

    def residuals(rows: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """log10 predicted - log10 true for baseline and discovered relation, the finite mask,
        and the mask of haloes where only the discovered relation is non-finite (it overflows or
        leaves its domain on this suite): excluded, and said so in the log."""
        x = np.column_stack([np.asarray(rows[c], dtype=float) for c in features])
        y = np.asarray(rows[target.y], dtype=float)
        base = target.slope * np.asarray(rows[target.x], dtype=float) + b_train
        disc = target.slope * np.asarray(rows[target.x], dtype=float) + f(x)
        scored = np.isfinite(base) & np.isfinite(y)
        ok = scored & np.isfinite(disc)
        diverged = scored & ~ok
        if diverged.any():
            log.warning("%s: the discovered relation is non-finite for %d of %d haloes; they are "
                        "left out of its scatter (column n_disc_nonfinite)",
                        rows["suite"][0], int(diverged.sum()), len(rows))
        return base[ok] - y[ok], disc[ok] - y[ok], ok, diverged

    return residuals, b_train


def halo_residuals(
    table: Table, target: Target, expression: str, features: list[str],
    train_suites: list[str], holdout_suites: list[str],
) -> Table:
    """Per-halo residuals (log10 predicted - log10 true) of the baseline and the discovered
    relation, constants frozen and with the normalisation refitted per suite, with the halo's
    suite, simulation, mass, redshift and simulation parameters (for residual-vs-parameter plots)."""
    residuals, _ = _relation_functions(table, target, expression, features, train_suites)
    keep = [c for c in ("suite", "sim", "snapshot", "redshift", "log10_M200c", "Omega_m",
                        "sigma_8", "A_SN1", "A_AGN1", "A_SN2", "A_AGN2") if c in table.colnames]
    parts = []
    for suite in list(train_suites) + list(holdout_suites):
        sub = rows_of_suites(table, [suite])
        rb, rd, ok, _ = residuals(sub)
        out = sub[keep][ok]
        out["role"] = "train" if suite in train_suites else "holdout"
        out["resid_base_frozen"], out["resid_disc_frozen"] = rb, rd
        out["resid_base_refit"], out["resid_disc_refit"] = rb - rb.mean(), rd - rd.mean()
        parts.append(out)
    from astropy.table import vstack

    result = vstack(parts)
    result.meta = {"target": asdict(target), "expression": expression,
                   "definition": "log10 predicted - log10 true of target.y"}
    return result


def evaluate_relation(
    table: Table, target: Target, expression: str, features: list[str],
    train_suites: list[str], holdout_suites: list[str], options: EvaluateOptions,
    floor_resid: np.ndarray | None = None,
) -> Table:
    """Scatter table: one row per (suite, mass bin, constants), bins plus an 'all' row.

    ``floor_resid``: per-row residuals [dex] of the mock's intrinsic noise floor
    (:func:`pipeline.discovery.noise_floor.noise_floor_residuals`); adds columns floor_frac and floor_log
    (NaN without it), the scatter that no relation can remove from the same haloes.
    """
    residuals, b_train = _relation_functions(table, target, expression, features, train_suites)
    published = None
    if published_form_applies(table, target):
        published = fit_published_form(rows_of_suites(table, train_suites), target)
    table = table.copy(copy_data=False)
    table["_floor_resid"] = np.full(len(table), np.nan) if floor_resid is None else floor_resid

    rng = np.random.default_rng(options.seed)
    edges = options.mass_bins
    rows = []
    for suite in list(train_suites) + list(holdout_suites):
        sub = rows_of_suites(table, [suite])
        rb_all, rd_all, ok, diverged = residuals(sub)
        lm_sub = np.asarray(sub["log10_M200c"], dtype=float)
        lm, lm_diverged = lm_sub[ok], lm_sub[diverged]
        floor_all = np.asarray(sub["_floor_resid"], dtype=float)[ok]
        pub_all = np.full(len(lm), np.nan)
        if published is not None:
            a_pub, b_pub = published
            # predicted - true: slope x + log10(1 - A c_gas) + b - y
            pub_all = (published_correction(sub["c_gas"], a_pub) - target.residual(sub, b_pub))[ok]
        shift = {"frozen": (0.0, 0.0), "refit": (np.mean(rb_all), np.mean(rd_all))}
        pub_shift = {"frozen": 0.0, "refit": float(np.nanmean(pub_all)) if published else 0.0}
        bins = [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)] + [(edges[0], edges[-1])]
        for lo, hi in bins:
            in_bin = (lm >= lo) & (lm < hi)
            n = int(in_bin.sum())
            for constants, (sb, sd) in shift.items():
                row = {"suite": suite, "role": "train" if suite in train_suites else "holdout",
                       "log10_M_lo": lo, "log10_M_hi": hi,
                       "bin": "all" if (lo, hi) == (edges[0], edges[-1]) else "bin",
                       "constants": constants, "n_halos": n,
                       "n_disc_nonfinite": int(((lm_diverged >= lo) & (lm_diverged < hi)).sum())}
                if n < options.min_halos_per_bin:
                    log.warning("%s, log10 M in [%g, %g): %d haloes < %d, scatter not computed",
                                suite, lo, hi, n, options.min_halos_per_bin)
                    stats = {k: (np.nan,) * 3 for k in
                             ("base_frac", "disc_frac", "base_log", "disc_log", "reduction_frac")}
                    bias_b = bias_d = np.nan
                else:
                    rb, rd = rb_all[in_bin] - sb, rd_all[in_bin] - sd
                    stats = bootstrap_scatter(rb, rd, options.bootstrap, options.confidence, rng)
                    bias_b, bias_d = float(np.median(rb)), float(np.median(rd))
                for k, (v, lo_ci, hi_ci) in stats.items():
                    row[k], row[f"{k}_lo"], row[f"{k}_hi"] = v, lo_ci, hi_ci
                row["base_bias_log"], row["disc_bias_log"] = bias_b, bias_d
                pub = pub_all[in_bin] - pub_shift[constants]
                pub = pub[np.isfinite(pub)]
                if len(pub) >= max(options.min_halos_per_bin, 2):
                    pub_stats = bootstrap_scatter(pub, pub, options.bootstrap, options.confidence, rng)
                    for k in ("frac", "log"):
                        v, lo_ci, hi_ci = pub_stats[f"base_{k}"]
                        row[f"pub_{k}"], row[f"pub_{k}_lo"], row[f"pub_{k}_hi"] = v, lo_ci, hi_ci
                else:
                    for k in ("frac", "log"):
                        row[f"pub_{k}"] = row[f"pub_{k}_lo"] = row[f"pub_{k}_hi"] = np.nan
                floor = floor_all[in_bin]
                floor = floor[np.isfinite(floor)]
                enough = len(floor) >= max(options.min_halos_per_bin, 2)
                row["floor_frac"] = _frac(floor) if enough else np.nan
                row["floor_log"] = _dex(floor) if enough else np.nan
                rows.append(row)
    if not rows:
        raise DataError("evaluate: no suite to evaluate")
    out = Table(rows=rows)
    out.meta.update(
        {
            "target": asdict(target),
            "expression": expression,
            "features": list(features),
            "baseline_intercept_train": b_train,
            "published_form": PUBLISHED_FORM if published else "not applicable",
            "published_form_A_b": list(published) if published else None,
            "noise_floor": "none (real data)" if floor_resid is None else FLOOR_DEFINITION,
            "definitions": __doc__,
            "provenance": provenance("evaluate", asdict(options), {"evaluate.seed": options.seed}),
        }
    )
    return out
