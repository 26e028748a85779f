"""Halo population of one mock simulation: masses, concentrations, stars, gas amount and shape.

All quantities physical: masses in Msun, radii in Mpc. Random draws come from the generator the
caller passes, so a (seed, suite, simulation, snapshot) tuple fixes the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.cosmology import FlatLambdaCDM

from ..physics.cosmology import halo_radius_mpc
from ..physics.nfw import duffy08_concentration
from .suites import SuiteModel

__all__ = [
    "HaloPopulation",
    "draw_halo_masses",
    "moster13_stellar_fraction",
    "draw_population",
]


@dataclass
class HaloPopulation:
    """Per-halo properties of a mock simulation (arrays of equal length)."""

    m200c_msun: np.ndarray
    r200c_mpc: np.ndarray
    c200c: np.ndarray
    formation_offset: np.ndarray  # standard-normal residual of ln c at fixed mass
    mstar_msun: np.ndarray
    mgas_msun: np.ndarray  # gas inside R200c
    gas_concentration: np.ndarray  # NFW-shape concentration of the gas density
    nonthermal_fraction_r200: np.ndarray
    metallicity_norm: np.ndarray  # gas metallicity at R200c (mass fraction)
    centre_mpc: np.ndarray  # (n, 3) physical Mpc, inside the box

    def __len__(self) -> int:
        return len(self.m200c_msun)


def draw_halo_masses(
    rng: np.random.Generator, cosmo: FlatLambdaCDM, sigma8: float, redshift: float,
    box_mpc: float, log10_mmin_msun: float, log10_mmax_msun: float = 15.0,
) -> np.ndarray:
    """Poisson sample of M200c [Msun] in a periodic box of side ``box_mpc`` [physical Mpc] from
    the Tinker et al. (2008) mass function (colossus), between the given log10 masses."""
    from colossus.cosmology import cosmology as ccosmo
    from colossus.lss import mass_function

    h = cosmo.h
    ccosmo.setCosmology(
        "mock", params=dict(flat=True, H0=cosmo.H0.value, Om0=cosmo.Om0,
                            Ob0=cosmo.Ob0 or 0.049, sigma8=sigma8, ns=0.9624),
        persistence="",
    )
    log_m = np.linspace(log10_mmin_msun, log10_mmax_msun, 400)
    # colossus works in Msun/h and (Mpc/h)^-3
    dn_dlnm = mass_function.massFunction(
        10**log_m * h, redshift, mdef="200c", model="tinker08", q_out="dndlnM"
    ) * h**3
    dn_dlog10m = dn_dlnm * np.log(10.0)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dn_dlog10m[1:] + dn_dlog10m[:-1]) * np.diff(log_m))])
    n_expected = cdf[-1] * box_mpc**3
    n = rng.poisson(n_expected)
    return 10 ** np.interp(rng.uniform(0, cdf[-1], n), cdf, log_m)


def moster13_stellar_fraction(m200c_msun: np.ndarray, redshift: float) -> np.ndarray:
    """Mean M*/M of Moster, Naab & White (2013, Eqs. 2, 11-14)."""
    zf = redshift / (1.0 + redshift)
    log_m1 = 11.590 + 1.195 * zf
    norm = 0.0351 - 0.0247 * zf
    beta = 1.376 - 0.826 * zf
    gamma = 0.608 + 0.329 * zf
    x = np.asarray(m200c_msun) / 10**log_m1
    return 2.0 * norm / (x**-beta + x**gamma)


def _correlated_normal(rng, base: np.ndarray, rho: float) -> np.ndarray:
    return rho * base + np.sqrt(1.0 - rho**2) * rng.standard_normal(len(base))


def draw_population(
    rng: np.random.Generator, cosmo: FlatLambdaCDM, sigma8: float, redshift: float,
    box_mpc: float, astro: dict[str, float], suite: SuiteModel, log10_mmin_msun: float,
) -> HaloPopulation:
    """Draw the haloes of one simulation and their baryonic properties.

    ``astro`` holds A_SN1, A_AGN1, A_SN2, A_AGN2. The model, per halo of mass M:

    * c: Duffy+08 with 0.11 dex log-normal scatter; its standard-normal offset ``d`` stands for
      formation time (early formers are more concentrated);
    * M*: Moster+13 with 0.15 dex scatter correlated with ``d`` (rho = 0.5) and a suite-dependent
      response to A_SN1 (low mass) and A_AGN1 (high mass);
    * baryons inside R200c: f_b M / (1 + (M_c / M)^beta), where log10 M_c shifts with the four
      feedback parameters and scatters by 0.35 dex, anti-correlated with ``d``; gas is what the
      stars have not taken (at least 20% of the baryons);
    * gas concentration: c x ratio(suite) x (M / 1e13)^0.1, lowered by AGN feedback, with 0.35 in
      ln scatter anti-correlated (rho = -0.75) with the retention offset: haloes that lost more gas
      have puffier gas;
    * non-thermal pressure support at R200c: suite value x log-normal(0.3) scatter, larger for late
      formers.
    """
    m200 = draw_halo_masses(rng, cosmo, sigma8, redshift, box_mpc, log10_mmin_msun)
    n = len(m200)
    h = cosmo.h
    log_a = np.log10([astro["A_SN1"], astro["A_AGN1"], astro["A_SN2"], astro["A_AGN2"]])

    d = rng.standard_normal(n)
    c200 = duffy08_concentration(m200, redshift, h) * np.exp(0.25 * d)

    high_mass_weight = 1.0 / (1.0 + np.exp(-(np.log10(m200) - 12.5) / 0.3))
    log_fstar = (
        np.log10(moster13_stellar_fraction(m200, redshift))
        + suite.stellar_response[0] * log_a[0] * (1.0 - high_mass_weight)
        + suite.stellar_response[1] * log_a[1] * high_mass_weight
        + 0.15 * _correlated_normal(rng, d, 0.5)
    )
    retention_offset = _correlated_normal(rng, d, -0.3)
    log_mc = suite.log10_mc0 + float(np.dot(suite.mc_response, log_a)) + 0.35 * retention_offset
    f_b = (cosmo.Ob0 or 0.049) / cosmo.Om0
    mbar = f_b * m200 / (1.0 + (10**log_mc / m200) ** suite.retention_slope)
    mstar = np.minimum(10**log_fstar * m200, 0.8 * mbar)
    mgas = mbar - mstar

    ln_ratio = (
        np.log(suite.gas_concentration_ratio)
        + 0.1 * np.log(m200 / 1e13)
        + suite.gas_concentration_agn * log_a[1]
        + 0.35 * _correlated_normal(rng, retention_offset, -0.75)
    )
    c_gas = np.clip(c200 * np.exp(ln_ratio), 0.3, 30.0)
    f_nt = suite.nonthermal_fraction_r200 * np.exp(0.3 * rng.standard_normal(n) - 0.15 * d)
    # metallicity follows the stellar fraction loosely (own 0.15 dex scatter)
    z_norm = 0.004 * (10**log_fstar / 0.02) ** 0.3 * 10 ** (0.15 * rng.standard_normal(n))

    return HaloPopulation(
        m200c_msun=m200,
        r200c_mpc=halo_radius_mpc(m200, cosmo, redshift, 200.0),
        c200c=c200,
        formation_offset=d,
        mstar_msun=mstar,
        mgas_msun=mgas,
        gas_concentration=c_gas,
        nonthermal_fraction_r200=np.clip(f_nt, 0.0, 0.5),
        metallicity_norm=z_norm,
        centre_mpc=rng.uniform(0.0, box_mpc, size=(n, 3)),
    )
