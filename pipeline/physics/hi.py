"""Neutral hydrogen (HI) mass of gas cells, and the star-forming cells' cold phase.

A gas cell's HI mass is ``m X_H f_HI``: ``f_HI`` = n_HI / n_H, the snapshot's
``NeutralHydrogenAbundance`` (IllustrisTNG and SIMBA both write it), ``X_H`` the cell's hydrogen
mass fraction (IllustrisTNG: ``GFM_Metals[:, 0]``; SIMBA: 1 - Z - Y from ``Metallicity[:, 0]`` and
``[:, 1]``; else the primordial 0.76).

Star-forming cells sit on the effective equation of state of Springel & Hernquist (2003, MNRAS
339, 289): a cell's specific energy is the mass-weighted mix of hot ambient gas (u_h) and cold
clouds (u_c), u = (1 - x) u_h + x u_c, and their stored neutral fraction is computed for that
effective temperature, which is not physical. Three rules (:data:`HI_STAR_FORMING_RULES`):

``stored``
    the neutral fraction as stored;
``cold_phase``
    the cold-cloud mass fraction x = (u_h - u) / (u_h - u_c), clipped to [0, 1], taken as fully
    neutral (no H2 split): u_c the energy of T_c = 1000 K neutral gas (mu = 1.22), u_h = u_SN /
    (1 + A) + u_c with the supernova energy of T_SN = 5.73e7 K ionised gas (mu = 0.6) and
    A = A_0 (rho / rho_th)^-0.8, A_0 = 573, rho_th = n_H,th m_p / X_H with n_H,th = 0.13 cm^-3:
    the parameters of the Illustris / IllustrisTNG model (Vogelsberger et al. 2013; Pillepich
    et al. 2018). The common post-processing of these runs (e.g. Villaescusa-Navarro et al.
    2018; Diemer et al. 2018) treats star-forming cells so;
``exclude``
    star-forming cells carry no HI.
"""

from __future__ import annotations

import numpy as np
from astropy import constants as const
from astropy import units as u

from .gas import GAMMA, X_H

__all__ = ["HI_STAR_FORMING_RULES", "T_COLD_K", "T_SN_K", "A0", "N_H_THRESHOLD_CM3",
           "RHO_THRESHOLD_MSUN_KPC3", "hydrogen_fraction", "cold_phase_fraction", "hi_mass_msun"]

HI_STAR_FORMING_RULES = ("stored", "cold_phase", "exclude")
T_COLD_K = 1000.0
T_SN_K = 5.73e7
A0 = 573.0
N_H_THRESHOLD_CM3 = 0.13
_MU_NEUTRAL, _MU_IONISED = 1.22, 0.6
#: the star-formation density threshold [physical Msun / kpc^3] for gas of primordial X_H
RHO_THRESHOLD_MSUN_KPC3 = float(
    (N_H_THRESHOLD_CM3 * u.cm**-3 * const.m_p / X_H).to_value(u.Msun / u.kpc**3))


def _u_km2_s2(temperature_k: float, mu: float) -> float:
    """Specific internal energy [(km/s)^2] of ideal gas of mean molecular weight ``mu``."""
    return float((const.k_B * temperature_k * u.K / ((GAMMA - 1.0) * mu * const.m_p))
                 .to_value(u.km**2 / u.s**2))


U_COLD_KM2_S2 = _u_km2_s2(T_COLD_K, _MU_NEUTRAL)
U_SN_KM2_S2 = _u_km2_s2(T_SN_K, _MU_IONISED)


def hydrogen_fraction(n: int, gfm_metals: np.ndarray | None = None,
                      metallicity_2d: np.ndarray | None = None) -> np.ndarray:
    """Hydrogen mass fraction of ``n`` cells: ``GFM_Metals[:, 0]`` (IllustrisTNG), else 1 - Z - Y
    from a 2-D ``Metallicity`` (SIMBA: total metals, then helium), else :data:`X_H`."""
    if gfm_metals is not None:
        return np.asarray(gfm_metals, dtype=float)[:, 0]
    if metallicity_2d is not None and np.ndim(metallicity_2d) == 2 and metallicity_2d.shape[1] >= 2:
        z = np.asarray(metallicity_2d, dtype=float)
        return 1.0 - z[:, 0] - z[:, 1]
    return np.full(n, X_H)


def cold_phase_fraction(u_km2_s2: np.ndarray, rho_msun_kpc3: np.ndarray) -> np.ndarray:
    """Springel & Hernquist (2003) cold-cloud mass fraction of star-forming cells from their
    effective specific energy [(km/s)^2] and density [physical Msun/kpc^3] (module docstring);
    0 below the density threshold."""
    rho = np.asarray(rho_msun_kpc3, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = A0 * (rho / RHO_THRESHOLD_MSUN_KPC3) ** -0.8
        u_hot = U_SN_KM2_S2 / (1.0 + a) + U_COLD_KM2_S2
        x = (u_hot - np.asarray(u_km2_s2, dtype=float)) / (u_hot - U_COLD_KM2_S2)
    return np.where(rho >= RHO_THRESHOLD_MSUN_KPC3, np.clip(np.nan_to_num(x), 0.0, 1.0), 0.0)


def hi_mass_msun(mass_msun: np.ndarray, neutral_fraction: np.ndarray, x_h: np.ndarray,
                 star_forming: np.ndarray, rule: str, u_km2_s2: np.ndarray | None = None,
                 rho_msun_kpc3: np.ndarray | None = None) -> np.ndarray:
    """HI mass [Msun] of each cell: m X_H f_HI, with star-forming cells (``star_forming``) under
    ``rule`` (:data:`HI_STAR_FORMING_RULES`; ``cold_phase`` needs ``u_km2_s2`` and
    ``rho_msun_kpc3``)."""
    if rule not in HI_STAR_FORMING_RULES:
        raise ValueError(f"HI rule for star-forming gas {rule!r}; valid: {list(HI_STAR_FORMING_RULES)}")
    f_hi = np.asarray(neutral_fraction, dtype=float)
    sf = np.asarray(star_forming, dtype=bool)
    if rule == "exclude":
        f_hi = np.where(sf, 0.0, f_hi)
    elif rule == "cold_phase":
        if u_km2_s2 is None or rho_msun_kpc3 is None:
            raise ValueError("the cold_phase rule needs each cell's internal energy and density")
        f_hi = np.where(sf, cold_phase_fraction(u_km2_s2, rho_msun_kpc3), f_hi)
    return np.asarray(mass_msun, dtype=float) * np.asarray(x_h, dtype=float) * f_hi
