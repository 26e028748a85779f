"""Flat LambdaCDM quantities used for spherical-overdensity haloes and self-similar scaling.

:class:`FlatLCDM` is the few lines of astropy's ``FlatLambdaCDM(Tcmb0=0)`` that haloes need
(E(z), rho_c(z)), written with astropy's operations in astropy's order, so the numbers are the
same to the bit (tested). ``astropy.cosmology`` itself is not imported: it pulls in
``scipy.integrate`` and costs ~1.2 s in every job that starts (the mock writes and ingests
hundreds of snapshots, each in its own process).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from math import pi

import numpy as np
from astropy import constants as const
from astropy import units as u
from numpy.typing import ArrayLike

__all__ = [
    "FlatLCDM",
    "flat_lcdm",
    "efunc",
    "critical_density_msun_mpc3",
    "halo_radius_mpc",
    "halo_mass_msun",
]


@dataclass(frozen=True)
class FlatLCDM:
    """Flat LambdaCDM without radiation (the attribute names of astropy's ``FlatLambdaCDM``).

    ``H0_km_s_mpc`` Hubble constant [km/s/Mpc], ``Om0`` and ``Ob0`` matter and baryon density
    parameters (``Ob0`` 0 when not given), ``Ode0 = 1 - Om0``.
    """

    H0_km_s_mpc: float
    Om0: float
    Ob0: float

    @property
    def h(self) -> float:
        """Dimensionless Hubble parameter H0 / (100 km/s/Mpc)."""
        return self.H0_km_s_mpc / 100.0

    @property
    def Ode0(self) -> float:
        return 1.0 - self.Om0

    @property
    def H0(self) -> u.Quantity:
        """Hubble constant [km/s/Mpc]."""
        return self.H0_km_s_mpc * (u.km / u.s / u.Mpc)

    @functools.cached_property
    def critical_density0(self) -> u.Quantity:
        """rho_c(0) = 3 H0^2 / (8 pi G) [g/cm^3]."""
        return (3 * self.H0**2 / (8 * pi * const.G)).cgs

    def efunc(self, redshift: float | np.ndarray) -> np.ndarray:
        """E(z) = H(z)/H0 = sqrt(Om (1+z)^3 + OL), dimensionless."""
        zp1 = np.asarray(redshift) + 1.0
        # the radiation term (0) kept: it fixes the order of the operations
        return np.sqrt(zp1**3 * (0.0 * zp1 + self.Om0) + self.Ode0)

    def critical_density(self, redshift: float | np.ndarray) -> u.Quantity:
        """rho_c(z) = rho_c(0) E(z)^2 [g/cm^3]."""
        return self.critical_density0 * self.efunc(redshift) ** 2


@functools.lru_cache(maxsize=256)
def flat_lcdm(hubble_param: float, omega_m: float, omega_b: float | None = None) -> FlatLCDM:
    """Flat LambdaCDM without radiation, as in the Gadget/Arepo headers (cached: immutable).

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
    return FlatLCDM(H0_km_s_mpc=100.0 * hubble_param, Om0=float(omega_m), Ob0=ob0)


def efunc(cosmo: FlatLCDM, redshift: float | np.ndarray) -> np.ndarray:
    """E(z) = H(z)/H0 = sqrt(Om (1+z)^3 + OL), dimensionless."""
    return np.asarray(cosmo.efunc(redshift), dtype=float)


def critical_density_msun_mpc3(cosmo: FlatLCDM, redshift: float | np.ndarray) -> np.ndarray:
    """Critical density rho_c(z) = 3 H(z)^2 / (8 pi G) in physical Msun / Mpc^3."""
    return np.asarray(cosmo.critical_density(redshift).to_value(u.Msun / u.Mpc**3))


def halo_radius_mpc(
    mass_msun: ArrayLike, cosmo: FlatLCDM, redshift: float, delta: float = 200.0
) -> np.ndarray:
    """R_Delta [physical Mpc] of a halo of mass M_Delta [Msun] for overdensity Delta x rho_c(z)."""
    rho = critical_density_msun_mpc3(cosmo, redshift)
    return np.cbrt(3.0 * np.asarray(mass_msun, dtype=float) / (4.0 * np.pi * delta * rho))


def halo_mass_msun(
    radius_mpc: np.ndarray, cosmo: FlatLCDM, redshift: float, delta: float = 200.0
) -> np.ndarray:
    """M_Delta [Msun] enclosed by R_Delta [physical Mpc]: (4 pi / 3) Delta rho_c(z) R^3."""
    rho = critical_density_msun_mpc3(cosmo, redshift)
    return 4.0 / 3.0 * np.pi * delta * rho * np.asarray(radius_mpc, dtype=float) ** 3
