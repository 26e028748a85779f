"""Count targets: how many galaxies a group hosts (``catalog.galaxy_log10_mstar_min_msun``).

*Transform.* A count N is modelled as ``log10(1 + N)`` (columns ``log10_1p_N_gal_mstar<t>``,
``log10_1p_N_sat_mstar<t>``): defined for an empty group (0, not minus infinity), close to
log10 N once N is more than a few, so a residual is a factor on 1 + N as every other target's
residual is a factor on y. With x = log10 M200c and slope 1 the self-similar baseline is the
mass-only occupation (N proportional to M200c, normalisation fitted on the training groups); the
correction says what else sets the count at fixed mass (formation time, environment). Below a few
galaxies per group log10(1 + N) flattens towards 0 and slope 1 overpredicts the spread: select
groups by mass where the mean count is several (the shipped study keeps M200c >= 10^12.5 Msun).

*Metrics.* As for every target, in dex of 1 + N: bias, scatter about the sample's own mean (a
normalisation refitted on the held-out code, e.g. for its different stellar masses and hence
counts above a threshold, is not held against a relation), rms with the constants as trained, the
reduction against the mass-only baseline, intervals that resample simulations.

*Floor.* A count is a draw: for N ~ Poisson(lambda), the scatter of log10(1 + N) about its
expectation cannot be removed by any relation of the group's properties.
:func:`poisson_log1p_std` gives it exactly per group (0.434 / sqrt(lambda) for lambda >> 1);
the pooled floor of a sample is the root mean of its squares over the groups. The mock's planted
occupation (``pipeline/mock/subhalos.py``) is Poisson, so its floor is known.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import poisson

__all__ = ["poisson_log1p_std", "poisson_floor_dex"]


def poisson_log1p_std(mean_count: np.ndarray | float) -> np.ndarray:
    """Standard deviation of log10(1 + N) [dex] for N ~ Poisson(``mean_count``), per element
    (exact sum over the probability mass, to 12 standard deviations beyond the mean)."""
    lam = np.atleast_1d(np.asarray(mean_count, dtype=float))
    if (lam < 0).any() or not np.isfinite(lam).all():
        raise ValueError("mean_count must be finite and >= 0")
    n_max = int(np.max(lam + 12.0 * np.sqrt(lam) + 20.0)) if lam.size else 0
    n = np.arange(n_max + 1)
    pmf = poisson.pmf(n[None, :], lam[:, None])
    value = np.log10(1.0 + n)[None, :]
    mean = (pmf * value).sum(axis=1)
    var = (pmf * value**2).sum(axis=1) - mean**2
    return np.sqrt(np.clip(var, 0.0, None))


def poisson_floor_dex(mean_counts: np.ndarray) -> float:
    """The pooled Poisson floor of a sample of groups [dex]: sqrt(mean over groups of the
    variance of log10(1 + N))."""
    return float(np.sqrt(np.mean(poisson_log1p_std(mean_counts) ** 2)))
