"""Navarro-Frenk-White haloes: enclosed mass, V_max / V_200 and its inversion to a concentration."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "G_MPC_KM2_S2_MSUN", "nfw_mu", "nfw_enclosed_fraction", "vmax_over_v200",
    "concentration_from_vmax_ratio", "duffy08_concentration", "r500_over_r200",
]

#: Newton's constant in Mpc (km/s)^2 / Msun.
G_MPC_KM2_S2_MSUN = 4.300917270e-9
#: the same in kpc (km/s)^2 / Msun (subhalo radii are quoted in kpc).
G_KPC_KM2_S2_MSUN = G_MPC_KM2_S2_MSUN * 1e3

#: x_max / r_s of the NFW circular-velocity peak (root of ln(1+x) = x(1+2x)/(1+x)^2).
_X_VMAX = 2.162581587064612


def nfw_mu(x: ArrayLike) -> np.ndarray:
    """m(x) = ln(1 + x) - x / (1 + x): NFW enclosed mass in units of 4 pi rho_s r_s^3."""
    x = np.asarray(x, dtype=float)
    return np.log1p(x) - x / (1.0 + x)


def nfw_enclosed_fraction(r_over_rdelta: np.ndarray, concentration: np.ndarray) -> np.ndarray:
    """M(<r) / M_Delta for an NFW halo of concentration c = R_Delta / r_s."""
    c = np.asarray(concentration, dtype=float)
    return nfw_mu(c * np.asarray(r_over_rdelta, dtype=float)) / nfw_mu(c)


def vmax_over_v200(concentration: np.ndarray) -> np.ndarray:
    """V_max / V_Delta = sqrt(0.2162 c / m(c)) for an NFW halo (c = R_Delta / r_s)."""
    c = np.asarray(concentration, dtype=float)
    return np.sqrt(nfw_mu(_X_VMAX) / _X_VMAX * c / nfw_mu(c))


# V_max/V_200 has its minimum (= 1) at c = x_max; it is monotonic only above it.
_C_GRID = np.geomspace(_X_VMAX + 1e-3, 100.0, 4000)
_RATIO_GRID = vmax_over_v200(_C_GRID)  # increasing (tested)


def concentration_from_vmax_ratio(ratio: np.ndarray) -> np.ndarray:
    """Invert :func:`vmax_over_v200`: NFW concentration from V_max / V_Delta.

    Valid for 2.17 <= c <= 100 (V_max/V_200 in [1.0, 2.1]); outside that range, or for a ratio
    below the NFW minimum, the result is NaN (a halo that is not NFW-like), never clipped.
    """
    # linear interpolation (np.interp: scipy.interpolate costs ~0.4 s to import in every job)
    return np.asarray(np.interp(np.asarray(ratio, dtype=float), _RATIO_GRID, _C_GRID,
                                left=np.nan, right=np.nan), dtype=float)


def duffy08_concentration(m200c_msun: np.ndarray, redshift: float, h: float) -> np.ndarray:
    """Mean c200c(M, z) of Duffy et al. (2008, Table 1, full sample, 200c)."""
    return 5.71 * (np.asarray(m200c_msun) * h / 2.0e12) ** -0.084 * (1.0 + redshift) ** -0.47


def r500_over_r200(c200c: np.ndarray) -> np.ndarray:
    """R500c / R200c of an NFW halo: root of m(c x) / m(c) = (500/200) x^3, by bisection."""
    c = np.asarray(c200c, dtype=float)
    lo, hi = np.full_like(c, 0.2), np.ones_like(c)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = nfw_mu(c * mid) / nfw_mu(c) > 2.5 * mid**3
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)
