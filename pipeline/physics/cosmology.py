"""Flat LambdaCDM quantities used for spherical-overdensity haloes and self-similar scaling."""

from __future__ import annotations

import functools

import numpy as np
from astropy import units as u
from astropy.cosmology import FlatLambdaCDM

__all__ = [
    "flat_lcdm",
    "efunc",
    "critical_density_msun_mpc3",
    "halo_radius_mpc",
    "halo_mass_msun",
]


@functools.lru_cache(maxsize=256)
def flat_lcdm(hubble_param: float, omega_m: float, omega_b: float | None = None) -> FlatLambdaCDM:
    """Flat LambdaCDM without radiation, as in the Gadget/Arepo headers (cached: astropy takes
    ~50 ms to build one, and the objects are immutable).

    Parameters
    ----------
    hubble_param : float
        Dimensionless h (``Header/HubbleParam``).
    omega_m, omega_b : float
        Matter and baryon density parameters (``Header/Omega0``, ``Header/OmegaBaryon``);
        ``omega_b`` may be None or NaN when the header lacks it.
    """
    if not 0.0 < hubble_param < 2.0:
        raise ValueError(f"hubble_param must be the dimensionless h in (0, 2), got {hubble_param}")
    if not 0.0 < omega_m <= 1.0:
        raise ValueError(f"omega_m must lie in (0, 1], got {omega_m}")
    # E(z), rho_c and radii do not depend on Omega_b; 0 stands for "not given"
    ob0 = float(omega_b) if omega_b is not None and np.isfinite(omega_b) else 0.0
    return FlatLambdaCDM(H0=100.0 * hubble_param, Om0=omega_m, Ob0=ob0, Tcmb0=0.0)


def efunc(cosmo: FlatLambdaCDM, redshift: float | np.ndarray) -> np.ndarray:
    """E(z) = H(z)/H0 = sqrt(Om (1+z)^3 + OL), dimensionless."""
    return np.asarray(cosmo.efunc(redshift), dtype=float)


def critical_density_msun_mpc3(cosmo: FlatLambdaCDM, redshift: float | np.ndarray) -> np.ndarray:
    """Critical density rho_c(z) = 3 H(z)^2 / (8 pi G) in physical Msun / Mpc^3."""
    return np.asarray(cosmo.critical_density(redshift).to_value(u.Msun / u.Mpc**3))


def halo_radius_mpc(
    mass_msun: np.ndarray, cosmo: FlatLambdaCDM, redshift: float, delta: float = 200.0
) -> np.ndarray:
    """R_Delta [physical Mpc] of a halo of mass M_Delta [Msun] for overdensity Delta x rho_c(z)."""
    rho = critical_density_msun_mpc3(cosmo, redshift)
    return np.cbrt(3.0 * np.asarray(mass_msun, dtype=float) / (4.0 * np.pi * delta * rho))


def halo_mass_msun(
    radius_mpc: np.ndarray, cosmo: FlatLambdaCDM, redshift: float, delta: float = 200.0
) -> np.ndarray:
    """M_Delta [Msun] enclosed by R_Delta [physical Mpc]: (4 pi / 3) Delta rho_c(z) R^3."""
    rho = critical_density_msun_mpc3(cosmo, redshift)
    return 4.0 / 3.0 * np.pi * delta * rho * np.asarray(radius_mpc, dtype=float) ** 3
