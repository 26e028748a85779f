"""Thermodynamics of simulation gas particles and their thermal SZ signal.

Conventions of Gadget/Arepo outputs (IllustrisTNG, SIMBA, Astrid): specific internal energy
``u`` in (km/s)^2, ``ElectronAbundance`` x_e = n_e / n_H, hydrogen mass fraction X_H = 0.76.
"""

from __future__ import annotations

import numpy as np
from astropy import constants as const
from astropy import units as u
from numpy.typing import ArrayLike

__all__ = [
    "X_H",
    "GAMMA",
    "mean_molecular_weight",
    "temperature_k",
    "internal_energy_km2_s2",
    "electron_count",
    "compton_y_mpc2",
    "Y_PER_ELECTRON_KELVIN_MPC2",
    "KELVIN_PER_MU_KM2_S2",
    "ELECTRONS_PER_MSUN_PER_XE",
    "thermal_to_electron_pressure",
    "STAR_FORMING_GAS_RULES",
    "include_star_forming",
]

X_H = 0.76
GAMMA = 5.0 / 3.0

#: The one rule for star-forming gas (StarFormationRate > 0) of every stage that measures gas
#: (config key ``star_forming_gas``): "exclude" leaves it out of the thermal quantities (Y, T_mw,
#: pressure and temperature profiles), since its effective-equation-of-state temperature is not
#: a physical one; "include" keeps it. It always counts in gas masses, densities and metallicities.
STAR_FORMING_GAS_RULES = ("exclude", "include")


def include_star_forming(rule: str) -> bool:
    """Whether the ``star_forming_gas`` rule keeps star-forming gas in the thermal quantities;
    ValueError naming the key for anything but :data:`STAR_FORMING_GAS_RULES`."""
    if rule not in STAR_FORMING_GAS_RULES:
        raise ValueError(f"star_forming_gas must be one of {STAR_FORMING_GAS_RULES}, got {rule!r}")
    return rule == "include"
_M_P_KG = const.m_p.to_value(u.kg)
_K_B = const.k_B.to_value(u.J / u.K)
_MSUN_KG = const.M_sun.to_value(u.kg)

#: T [K] per mu per u [(km/s)^2]: T = this x mu x u (ideal monatomic gas).
KELVIN_PER_MU_KM2_S2 = (GAMMA - 1.0) * 1.0e6 * _M_P_KG / _K_B
#: free electrons per Msun of gas per unit electron abundance x_e: N_e = this x x_e x m [Msun].
ELECTRONS_PER_MSUN_PER_XE = X_H * _MSUN_KG / _M_P_KG

#: sigma_T k_B / (m_e c^2) in Mpc^2 per (electron x Kelvin): Y = this x sum_i N_e,i T_i.
Y_PER_ELECTRON_KELVIN_MPC2 = (
    (const.sigma_T * const.k_B / (const.m_e * const.c**2)).to_value(u.Mpc**2 / u.K)
)


def mean_molecular_weight(electron_abundance: ArrayLike, x_h: float = X_H) -> np.ndarray:
    """mu = 4 / (1 + 3 X_H + 4 X_H x_e), dimensionless (in units of the proton mass)."""
    return 4.0 / (1.0 + 3.0 * x_h + 4.0 * x_h * np.asarray(electron_abundance, dtype=float))


def temperature_k(
    internal_energy_km2_s2: np.ndarray, electron_abundance: np.ndarray, x_h: float = X_H
) -> np.ndarray:
    """Gas temperature [K] from specific internal energy u [(km/s)^2]: T = (gamma-1) u mu m_p / k_B."""
    mu = mean_molecular_weight(electron_abundance, x_h)
    return KELVIN_PER_MU_KM2_S2 * mu * np.asarray(internal_energy_km2_s2, dtype=float)


def internal_energy_km2_s2(
    temperature: ArrayLike, electron_abundance: ArrayLike, x_h: float = X_H
) -> np.ndarray:
    """Inverse of :func:`temperature_k`: u [(km/s)^2] of gas at temperature [K]."""
    mu = mean_molecular_weight(electron_abundance, x_h)
    return np.asarray(temperature, dtype=float) * _K_B / ((GAMMA - 1.0) * mu * _M_P_KG) / 1.0e6


def electron_count(
    mass_msun: np.ndarray, electron_abundance: np.ndarray, x_h: float = X_H
) -> np.ndarray:
    """Number of free electrons N_e = x_e X_H m / m_p in gas of mass ``mass_msun`` [Msun]."""
    return (
        np.asarray(electron_abundance, dtype=float)
        * x_h
        * np.asarray(mass_msun, dtype=float)
        * (_MSUN_KG / _M_P_KG)
    )


def compton_y_mpc2(
    mass_msun: np.ndarray, electron_abundance: np.ndarray, temperature: np.ndarray,
    x_h: float = X_H,
) -> np.ndarray:
    """Per-particle integrated Compton-y [physical Mpc^2]: sigma_T k_B N_e T / (m_e c^2).

    Summing over the particles in a volume gives Y = sigma_T / (m_e c^2) * integral P_e dV.
    """
    n_e = electron_count(mass_msun, electron_abundance, x_h)
    return Y_PER_ELECTRON_KELVIN_MPC2 * n_e * np.asarray(temperature, dtype=float)


def thermal_to_electron_pressure(x_h: float = X_H) -> float:
    """P_e / P_th = 2 (X_H + 1) / (5 X_H + 3) for fully ionised hydrogen and helium."""
    return 2.0 * (x_h + 1.0) / (5.0 * x_h + 3.0)
