"""Volume integrals of spherically averaged profiles sampled on a radial grid.

Interpolation (documented choice, tested on analytic profiles): a monotone cubic (PCHIP) in
log f versus log r between the grid radii, integrated numerically in ln r on a fine grid. It does
not overshoot, is exact for power laws, and on the CAMELS stacks' coarse grid (a factor ~1.74 in
radius) it integrates a Battaglia et al. (2012) generalised-NFW pressure profile to better than
0.1%, where piecewise power laws are off by ~2.5% and linear interpolation by ~4%.
Inside the first radius the first segment's power law is extrapolated to r = 0, its slope (of
the product, for a product of profiles) capped at ``CORE_SLOPE_MIN`` = -2: the core integral
r0^3 / (slope + 3) diverges as the slope nears -3, and nothing measured supports a steeper cusp
below the first radius (a real TNG 1P stack whose density and metallicity slopes added up to
-2.999 gave a gas-mass-weighted metallicity of 1.6, a hundred times its profile's values). The
unresolved core remains a systematic: on the CAMELS 1P stacks (first radius 3 kpc) a flat core
instead of r^-2 changes Mgas(<R200c) by 2.4% at the 90th percentile (at most 3.5%), Y by 0.1%.
A profile with zero or negative values is interpolated linearly in r instead of in log.
Integrating beyond the last radius is an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from astropy import constants as const
from astropy import units as u
from scipy.interpolate import PchipInterpolator

from .gas import X_H, thermal_to_electron_pressure

__all__ = ["enclosed_integral", "compton_y_from_pressure_mpc2"]

_N_FINE = 1024
CORE_SLOPE_MIN = -2.0


def _interpolator(r: np.ndarray, f: np.ndarray):
    """f(r) for r in [r[0], r[-1]] and the power-law slope used inside r[0]."""
    if np.all(f > 0):
        spline = PchipInterpolator(np.log(r), np.log(f))
        slope = float(np.log(f[1] / f[0]) / np.log(r[1] / r[0]))
        return (lambda x: np.exp(spline(np.log(x)))), slope
    spline = PchipInterpolator(r, f)
    return spline, 0.0


def enclosed_integral(
    radius: np.ndarray, values: np.ndarray | Sequence[np.ndarray], r_max: float | np.ndarray
) -> np.ndarray:
    """int_0^{r_max} f(r) 4 pi r^2 dr of a profile sampled at increasing ``radius``.

    ``values`` is one profile, or a sequence of profiles whose product is integrated (each is
    interpolated on its own, e.g. density x temperature). Units: those of the values times
    ``radius``^3 (plain arrays in and out). ``r_max`` may be an array.
    """
    r = np.asarray(radius, dtype=float)
    profiles = [np.asarray(values, dtype=float)] if np.ndim(values[0]) == 0 else [
        np.asarray(v, dtype=float) for v in values]
    r_out = np.atleast_1d(np.asarray(r_max, dtype=float))
    if np.any(r_out > r[-1] * (1 + 1e-12)):
        raise ValueError(f"r_max {r_out.max():g} exceeds the last profile radius {r[-1]:g}")
    if np.any(r_out <= 0):
        raise ValueError("r_max must be positive")
    interps = [_interpolator(r, f) for f in profiles]
    core_slope = max(sum(s for _, s in interps), CORE_SLOPE_MIN)
    core_value = np.prod([f[0] for f in profiles])

    def core(upto):  # analytic integral of the extrapolated product from 0 to upto <= r[0]
        return 4 * np.pi * core_value * r[0] ** 3 / (core_slope + 3.0) * (upto / r[0]) ** (core_slope + 3.0)

    out = np.empty_like(r_out)
    for j, rm in enumerate(r_out):
        if rm <= r[0]:
            out[j] = core(rm)
            continue
        x = np.geomspace(r[0], rm, _N_FINE)
        integrand = np.prod([fn(x) for fn, _ in interps], axis=0) * 4 * np.pi * x**3
        out[j] = core(r[0]) + np.trapezoid(integrand, np.log(x))
    return out if np.ndim(r_max) else out[0]


def compton_y_from_pressure_mpc2(
    radius: u.Quantity, thermal_pressure: u.Quantity, r_max: u.Quantity, x_h: float = X_H
) -> np.ndarray:
    """Y(<r_max) = sigma_T / (m_e c^2) int P_e 4 pi r^2 dr [physical Mpc^2] from a thermal
    pressure profile, with P_e = P_th 2 (X_H + 1) / (5 X_H + 3) (fully ionised H + He)."""
    integral = enclosed_integral(radius.to_value(u.Mpc), thermal_pressure.to_value(u.Pa),
                                 r_max.to_value(u.Mpc))
    energy = integral * (u.Pa * u.Mpc**3)
    y = const.sigma_T / (const.m_e * const.c**2) * thermal_to_electron_pressure(x_h) * energy
    return np.asarray(y.to_value(u.Mpc**2))
