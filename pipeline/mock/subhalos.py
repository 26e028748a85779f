"""Subhaloes of the mock's group catalogs, with a planted, documented answer.

Every group keeps its central subhalo (first in the group, as Subfind orders them) and gains
satellites: N ~ Poisson(lambda), infall masses from
dN/d mu ~ mu^-1.9 (mu = M_infall / M200c, between ``MU_MIN_MSUN`` / M200c and 0.1), positions
NFW-distributed out to R200c around the group centre.

The occupation, with a planted secondary dependence (assembly bias and environment at fixed
mass; :class:`Occupation`, mock option ``occupation``, off by default):

    lambda = SATELLITES_PER_1E12 x (M200c / 1e12 Msun)
             x exp(formation_slope x d + environment_slope x min(delta_R, DELTA_SATURATION))

with d the halo's formation offset (the standard-normal deviate of its concentration at fixed
mass: early formers, d > 0, are more concentrated; in the group catalog it shows as the central's
Vmax at fixed M200c) and delta_R the overdensity of the other haloes' M200c within R physical Mpc
(``environment_radius_mpc``) over the box's mean: the pipeline's ``overdensity_<R>mpc`` column
when its tracers include every mock halo; the environment term saturates at
``DELTA_SATURATION`` (a few haloes next to a cluster would otherwise get hundreds of
satellites). In log10(lambda) both terms are linear: a closed form can hold them exactly. With
both slopes 0 the draws are those of a mock without the option.

Planted physics (physical units; G in kpc (km/s)^2 / Msun):

* tidal stripping, the property that depends on environment: a satellite at r = r_host / R200c
  keeps Mtot = M_infall x r^``STRIP_SLOPE`` of its mass (centrals: Mtot = their bound mass);
* size: Rhalf = ``RHALF_KPC`` x (Mtot / 1e11 Msun)^(1/3) x 10^N(0, 0.1) kpc (centrals:
  0.5 R200c x 10^N(0, 0.1)), so that a radius alone is a poor mass proxy; the stellar half-mass
  radius 0.2 Rhalf (satellites) or 0.036 R200c (centrals), x 10^N(0, 0.15);
* stars: Mstar = f x Mtot, log10 f ~ N(log10 of the suite's ``STELLAR_FRACTION``, 0.25): the codes
  differ in how many stars their feedback lets form (centrals: their stellar particles);
* the virial-like law, with a baryonic term and a term for the depth in the host's potential
  (r = r_host / R200c; centrals sit at r = 0):

      sigma_v^2 = G Mtot / (K_VIRIAL Rhalf) x (1 + B_BARYON Mstar / Mtot)
                  x (1 + T_TIDAL (1 - r)) x 10^N(0, 2 x 0.02)

  so log10 Mtot = log10(K sigma_v^2 Rhalf / G) - log10(1 + B f) - log10(1 + T (1 - r)) with a
  0.04 dex noise floor: the virial estimate alone is biased by the stars (more in the code with
  more of them) and by where the subhalo sits.
* satellites live in the catalog only: the snapshot holds no particles for them.
* Vmax = ``VMAX_OVER_SIGMA`` sigma_v 10^N(0, 0.05) (a noisier copy of the same information,
  satellites; centrals keep their NFW Vmax), gas and black holes small and uninformative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..defaults import SCHEMA, schema_defaults
from ..physics.nfw import G_KPC_KM2_S2_MSUN
from .particles import isotropic_offsets, sample_nfw_radii

__all__ = ["K_VIRIAL", "B_BARYON", "T_TIDAL", "STRIP_SLOPE", "STELLAR_FRACTION", "Occupation",
           "halo_overdensity", "mean_satellites", "planted_sigma_v_kms", "draw_satellites"]

K_VIRIAL = 6.0
B_BARYON = 6.0
T_TIDAL = 0.5
STRIP_SLOPE = 0.6
SATELLITES_PER_1E12 = 3.0
#: overdensity above which the planted environment term stops growing
DELTA_SATURATION = 5.0
MU_MIN_MSUN = 3e9
RHALF_KPC = 25.0
VMAX_OVER_SIGMA = 1.45
SIGMA_NOISE_DEX = 0.02
#: median stellar-to-total mass fraction of satellites per suite (feedback strength)
STELLAR_FRACTION = {"IllustrisTNG": 0.03, "SIMBA": 0.015, "Astrid": 0.05}


@dataclass(frozen=True)
@schema_defaults("mock", "occupation")
class Occupation:
    """The planted secondary dependence of the satellite count (module docstring)."""

    formation_slope: float = SCHEMA
    environment_slope: float = SCHEMA
    environment_radius_mpc: float = SCHEMA


def halo_overdensity(centre_mpc: np.ndarray, m200c_msun: np.ndarray, box_mpc: float,
                     radius_mpc: float) -> np.ndarray:
    """Per halo: M200c of the other haloes centred within ``radius_mpc`` [physical Mpc] over the
    box's mean M200c density times the sphere's volume, minus 1 (periodic box ``box_mpc``)."""
    m200 = np.asarray(m200c_msun, dtype=float)
    if len(m200) == 0:
        return np.zeros(0)
    pos = np.mod(np.asarray(centre_mpc, dtype=float), box_mpc)
    # all pairs, in row blocks of bounded memory: a mock box holds ~10^2-10^4 haloes, where this
    # beats importing scipy.spatial (0.2 s) in every mock job
    inside = np.empty(len(m200))
    block = max(1, 2**22 // len(m200))
    for start in range(0, len(m200), block):
        d = pos[start:start + block, None, :] - pos[None, :, :]
        d -= box_mpc * np.round(d / box_mpc)  # nearest periodic image
        within = np.einsum("ijk,ijk->ij", d, d) <= radius_mpc**2
        inside[start:start + block] = within @ m200
    inside -= m200  # the others only
    mean = m200.sum() / box_mpc**3 * (4.0 / 3.0 * np.pi * radius_mpc**3)
    return inside / mean - 1.0


def mean_satellites(m200c_msun: np.ndarray, formation_offset: np.ndarray, overdensity: np.ndarray,
                    occupation: Occupation) -> np.ndarray:
    """The planted mean satellite count lambda of each group (module docstring)."""
    lam = SATELLITES_PER_1E12 * np.asarray(m200c_msun, dtype=float) / 1e12
    if occupation.formation_slope:
        lam = lam * np.exp(occupation.formation_slope * np.asarray(formation_offset))
    if occupation.environment_slope:
        lam = lam * np.exp(occupation.environment_slope
                           * np.minimum(np.asarray(overdensity), DELTA_SATURATION))
    return lam


def planted_sigma_v_kms(mtot_msun, rhalf_kpc, fstar, r_host_r200c) -> np.ndarray:
    """The mock's noiseless velocity dispersion [km/s] (see the module docstring)."""
    sigma2 = (G_KPC_KM2_S2_MSUN * np.asarray(mtot_msun) / (K_VIRIAL * np.asarray(rhalf_kpc))
              * (1.0 + B_BARYON * np.asarray(fstar))
              * (1.0 + T_TIDAL * (1.0 - np.asarray(r_host_r200c))))
    return np.sqrt(sigma2)


def draw_satellites(rng: np.random.Generator, m200c_msun: np.ndarray, r200c_mpc: np.ndarray,
                    c200c: np.ndarray, centre_mpc: np.ndarray, box_mpc: float,
                    suite: str, formation_offset: np.ndarray | None = None,
                    occupation: Occupation | None = None) -> dict[str, np.ndarray]:
    """Satellites of every group (physical units): ``host`` (group index), ``pos_mpc``,
    ``r_host_r200c``, ``mtot_msun``, ``mstar_msun``, ``rhalf_kpc``, ``rhalf_star_kpc``,
    ``sigma_v_kms``, ``vmax_kms``, ordered by host; ``lambda`` and ``overdensity`` per group (the
    planted occupation and the environment it reads)."""
    m200 = np.asarray(m200c_msun, dtype=float)
    occupation = occupation or Occupation()
    overdensity = halo_overdensity(centre_mpc, m200, box_mpc, occupation.environment_radius_mpc)
    lam = mean_satellites(m200, np.zeros(len(m200)) if formation_offset is None else formation_offset,
                          overdensity, occupation)
    n_sat = rng.poisson(lam)
    host = np.repeat(np.arange(len(m200)), n_sat)
    mu_lo = np.minimum(MU_MIN_MSUN / m200[host], 0.05)
    mu_hi, p = 0.1, -0.9  # inverse CDF of mu^-1.9 between mu_lo and mu_hi
    uni = rng.uniform(size=len(host))
    mu = (mu_lo**p + uni * (mu_hi**p - mu_lo**p)) ** (1.0 / p)
    x = np.clip(sample_nfw_radii(rng, np.asarray(c200c)[host], 1.0), 0.02, 1.0)
    pos = np.mod(centre_mpc[host] + isotropic_offsets(rng, x * r200c_mpc[host]), box_mpc)
    mtot = mu * m200[host] * x**STRIP_SLOPE
    rhalf = RHALF_KPC * (mtot / 1e11) ** (1.0 / 3.0) * 10 ** (0.1 * rng.standard_normal(len(host)))
    rhalf_star = 0.2 * rhalf * 10 ** (0.15 * rng.standard_normal(len(host)))
    fstar = STELLAR_FRACTION[suite] * 10 ** (0.25 * rng.standard_normal(len(host)))
    sigma = planted_sigma_v_kms(mtot, rhalf, fstar, x) * 10 ** (
        SIGMA_NOISE_DEX * rng.standard_normal(len(host)))
    vmax = VMAX_OVER_SIGMA * sigma * 10 ** (0.05 * rng.standard_normal(len(host)))
    return {"host": host, "pos_mpc": pos, "r_host_r200c": x, "mtot_msun": mtot,
            "mstar_msun": fstar * mtot, "rhalf_kpc": rhalf, "rhalf_star_kpc": rhalf_star,
            "sigma_v_kms": sigma, "vmax_kms": vmax, "lambda": lam, "overdensity": overdensity}
