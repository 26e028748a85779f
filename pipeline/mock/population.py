"""Halo population of one mock simulation: masses, concentrations, stars, gas amount and shape.

All quantities physical: masses in Msun, radii in Mpc. Random draws come from the generator the
caller passes, so a (seed, suite, simulation, snapshot) tuple fixes the population.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..physics.cosmology import FlatLCDM, halo_radius_mpc
from ..physics.nfw import duffy08_concentration
from .gas_model import GasModel, HaloGas, gas_model, halo_gas_state
from .suites import SuiteModel

log = logging.getLogger(__name__)

#: spectral index of every mock cosmology (Planck 2013, as CAMELS)
_NS = 0.9624

__all__ = [
    "HaloPopulation",
    "draw_halo_masses",
    "moster13_stellar_fraction",
    "draw_population",
    "HaloDeviates",
    "draw_deviates",
    "HaloBaryons",
    "halo_baryons",
    "mass_function_dn_dlog10m",
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
    gas: HaloGas  # shape and temperature parameters of the gas (pipeline.mock.gas_model)
    metallicity_norm: np.ndarray  # gas metallicity at R200c (mass fraction)
    centre_mpc: np.ndarray  # (n, 3) physical Mpc, inside the box

    def __len__(self) -> int:
        return len(self.m200c_msun)

    @property
    def gas_concentration(self) -> np.ndarray:
        """1 / x_c: R200c over the scale radius of the gas density."""
        return 10.0 ** -self.gas.log10_xc


@dataclass
class HaloDeviates:
    """Standard-normal deviates of one halo sample, with the correlations of the model:
    formation offset d; stellar (rho = 0.5 with d); retention (rho = -0.3 with d: early formers
    keep more baryons); gas shape (rho = 0.75 with retention: haloes that lost gas have puffier
    gas); temperature factor; non-thermal support (larger for late formers); metallicity."""

    formation: np.ndarray
    stellar: np.ndarray
    retention: np.ndarray
    shape: np.ndarray
    eta: np.ndarray
    nonthermal: np.ndarray
    metallicity: np.ndarray


def draw_deviates(rng: np.random.Generator, n: int) -> HaloDeviates:
    """``n`` haloes' deviates (see :class:`HaloDeviates`)."""
    d = rng.standard_normal(n)
    retention = _correlated_normal(rng, d, -0.3)
    return HaloDeviates(
        formation=d, stellar=_correlated_normal(rng, d, 0.5), retention=retention,
        shape=_correlated_normal(rng, retention, 0.75), eta=rng.standard_normal(n),
        nonthermal=rng.standard_normal(n) - 0.5 * d, metallicity=rng.standard_normal(n),
    )


def mass_function_dn_dlog10m(
    cosmo: FlatLCDM, sigma8: float, redshift: float, log10_m200c_msun: np.ndarray,
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Tinker et al. (2008) dn / dlog10 M200c [comoving Mpc^-3, no h] (colossus) at the given
    masses [Msun, no h]: a number per comoving volume, to be multiplied by a comoving volume.

    With ``cache_dir``, the values are kept there under a key of every input (and colossus's
    version) and read back by later calls: a mock job then skips colossus (its import and
    power-spectrum set-up, ~0.5 s a job), and the values are the same to the bit (``.npy``)."""
    log10_m = np.asarray(log10_m200c_msun, dtype=float)
    path = None
    if cache_dir is not None:
        path = _mass_function_cache_path(cache_dir, cosmo, sigma8, redshift, log10_m)
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == log10_m.shape and cached.dtype == np.float64:
                return cached
        except (OSError, ValueError):
            pass  # not there yet, or unreadable: computed and written again
    from colossus.cosmology import cosmology as ccosmo
    from colossus.lss import mass_function

    h = cosmo.h
    ccosmo.setCosmology(
        "mock", params=dict(flat=True, H0=cosmo.H0.value, Om0=cosmo.Om0,
                            Ob0=cosmo.Ob0 or 0.049, sigma8=sigma8, ns=_NS),
        persistence="",
    )
    # colossus works in Msun/h and (Mpc/h)^-3
    dn_dlnm = mass_function.massFunction(
        10**log10_m * h, redshift, mdef="200c", model="tinker08", q_out="dndlnM",
    ) * h**3
    values = dn_dlnm * np.log(10.0)
    if path is not None:
        _write_cache(path, values)
    return values


def _mass_function_cache_path(cache_dir, cosmo: FlatLCDM, sigma8: float, redshift: float,
                              log10_m: np.ndarray) -> Path:
    """``<cache_dir>/mass_function/<sha256 of the inputs>.npy``; the key holds colossus's version
    (its tables may change between releases) and the exact bits of every number."""
    from importlib.metadata import version

    key = hashlib.sha256()
    numbers = np.array([cosmo.H0.value, cosmo.Om0, cosmo.Ob0 or 0.049, sigma8, _NS, redshift])
    for part in (b"tinker08/200c/", version("colossus").encode(), numbers.tobytes(),
                 np.ascontiguousarray(log10_m).tobytes()):
        key.update(part)
    return Path(cache_dir) / "mass_function" / f"{key.hexdigest()[:32]}.npy"


def _write_cache(path: Path, values: np.ndarray) -> None:
    """Write ``values`` whole or not at all. Jobs of one mock may write the same entry at once
    (each its own temporary, then a rename: the last one wins, with the same bytes); a cache
    that cannot be written costs speed, not the job."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.npy", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, values, allow_pickle=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        log.warning("mass-function cache %s not written: %s", path, exc)


def draw_halo_masses(
    rng: np.random.Generator, cosmo: FlatLCDM, sigma8: float, redshift: float,
    box_comoving_mpc: float, log10_mmin_msun: float, log10_mmax_msun: float = 15.0,
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Poisson sample of M200c [Msun] in a periodic box of comoving side ``box_comoving_mpc``
    [comoving Mpc, no h] from the Tinker et al. (2008) mass function (colossus), between the
    given log10 masses. A simulation box of L Mpc/h is L / h comoving Mpc at every redshift (its
    physical side is a L / h): the mass function is a comoving number density. ``cache_dir``:
    see :func:`mass_function_dn_dlog10m`."""
    log_m = np.linspace(log10_mmin_msun, log10_mmax_msun, 400)
    dn_dlog10m = mass_function_dn_dlog10m(cosmo, sigma8, redshift, log_m, cache_dir)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dn_dlog10m[1:] + dn_dlog10m[:-1]) * np.diff(log_m))])
    n_expected = cdf[-1] * box_comoving_mpc**3
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


@dataclass
class HaloBaryons:
    """Concentration, stars and gas of haloes of given masses (arrays of equal length)."""

    c200c: np.ndarray
    mstar_msun: np.ndarray
    mgas_msun: np.ndarray
    gas: HaloGas
    log10_fstar: np.ndarray


def halo_baryons(
    m200c_msun: np.ndarray, redshift: float, hubble_param: float, baryon_fraction: float,
    feedback: dict[str, float], suite: SuiteModel, gas: GasModel, dev: HaloDeviates,
) -> HaloBaryons:
    """The baryonic model of haloes of mass ``m200c_msun`` [Msun] at ``redshift``:

    * c: Duffy+08 with 0.11 dex log-normal scatter (deviate d, which stands for formation time:
      early formers are more concentrated);
    * M*: Moster+13 with 0.15 dex scatter and a suite-dependent response to A_SN1 (low mass) and
      A_AGN1 (high mass);
    * baryons inside R200c, gas shape and temperature: the calibrated gas model of the suite
      (:mod:`pipeline.mock.gas_model`); gas is what the stars have not taken (at least 20% of the
      baryons).
    """
    m200 = np.asarray(m200c_msun, dtype=float)
    log_m = np.log10(m200)
    c200 = duffy08_concentration(m200, redshift, hubble_param) * np.exp(0.25 * dev.formation)
    log_a = np.log10([feedback["A_SN1"], feedback["A_AGN1"]])
    high_mass_weight = 1.0 / (1.0 + np.exp(-(log_m - 12.5) / 0.3))
    log_fstar = (
        np.log10(moster13_stellar_fraction(m200, redshift))
        + suite.stellar_response[0] * log_a[0] * (1.0 - high_mass_weight)
        + suite.stellar_response[1] * log_a[1] * high_mass_weight
        + 0.15 * dev.stellar
    )
    state = halo_gas_state(gas, log_m, redshift, feedback, dev.retention, dev.shape, dev.eta,
                           dev.nonthermal)
    mbar = baryon_fraction * m200 * state.retained_fraction
    mstar = np.minimum(10**log_fstar * m200, 0.8 * mbar)
    return HaloBaryons(c200, mstar, mbar - mstar, state, log_fstar)


def draw_population(
    rng: np.random.Generator, cosmo: FlatLCDM, sigma8: float, redshift: float,
    box_mpc: float, astro: dict[str, float], suite: SuiteModel, log10_mmin_msun: float,
    gas: GasModel | None = None, mass_function_cache: str | os.PathLike | None = None,
) -> HaloPopulation:
    """Draw the haloes of one simulation and their baryonic properties (:func:`halo_baryons`).

    ``box_mpc``: the box's physical side at ``redshift`` [Mpc] (halo centres are drawn in it).

    ``astro`` holds A_SN1, A_AGN1, A_SN2, A_AGN2; ``gas`` defaults to the suite's calibrated
    gas model. The gas metallicity at R200c follows the stellar fraction loosely (0.15 dex
    scatter). ``mass_function_cache``: a folder that keeps the mass function between jobs
    (:func:`mass_function_dn_dlog10m`).
    """
    # box_mpc is the physical side a L / h; the mass function counts per comoving volume
    m200 = draw_halo_masses(rng, cosmo, sigma8, redshift, box_mpc * (1.0 + redshift),
                            log10_mmin_msun, cache_dir=mass_function_cache)
    n = len(m200)
    dev = draw_deviates(rng, n)
    gas = gas or gas_model(suite.name)
    f_b = (cosmo.Ob0 or 0.049) / cosmo.Om0
    baryons = halo_baryons(m200, redshift, cosmo.h, f_b, astro, suite, gas, dev)
    z_norm = 0.004 * (10**baryons.log10_fstar / 0.02) ** 0.3 * 10 ** (0.15 * dev.metallicity)
    return HaloPopulation(
        m200c_msun=m200,
        r200c_mpc=halo_radius_mpc(m200, cosmo, redshift, 200.0),
        c200c=baryons.c200c,
        formation_offset=dev.formation,
        mstar_msun=baryons.mstar_msun,
        mgas_msun=baryons.mgas_msun,
        gas=baryons.gas,
        metallicity_norm=z_norm,
        centre_mpc=rng.uniform(0.0, box_mpc, size=(n, 3)),
    )
