"""Particle realisations of mock haloes: NFW dark matter and gas, Hernquist stars, and the gas
temperature from hydrostatic equilibrium in the halo potential with non-thermal support."""

from __future__ import annotations

import numpy as np

from ..physics.nfw import G_MPC_KM2_S2_MSUN, nfw_mu

__all__ = [
    "sample_nfw_radii",
    "sample_hernquist_radii",
    "isotropic_offsets",
    "hydrostatic_sigma2_km2_s2",
]

_Y_TABLE = np.concatenate([[0.0], np.geomspace(1e-5, 500.0, 4000)])
_MU_TABLE = nfw_mu(_Y_TABLE)


def sample_nfw_radii(
    rng: np.random.Generator, concentration: np.ndarray, x_max: float
) -> np.ndarray:
    """Radii r / R_Delta of particles of NFW haloes, one per entry of ``concentration``,
    truncated at ``x_max`` R_Delta (inverse-CDF sampling on a tabulated m(y))."""
    c = np.asarray(concentration, dtype=float)
    target = rng.uniform(0.0, 1.0, len(c)) * nfw_mu(c * x_max)
    return np.interp(target, _MU_TABLE, _Y_TABLE) / c


def sample_hernquist_radii(rng: np.random.Generator, scale: np.ndarray, x_max: float) -> np.ndarray:
    """Radii (units of R_Delta) of a Hernquist profile M(<r) ~ r^2 / (r + a)^2, a = ``scale``,
    truncated at ``x_max``."""
    a = np.asarray(scale, dtype=float)
    f_max = (x_max / (x_max + a)) ** 2
    s = np.sqrt(rng.uniform(0.0, 1.0, len(a)) * f_max)
    return a * s / (1.0 - s)


def isotropic_offsets(rng: np.random.Generator, radius: np.ndarray) -> np.ndarray:
    """(n, 3) vectors of length ``radius`` in uniformly random directions."""
    v = rng.standard_normal((len(radius), 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v * np.asarray(radius)[:, None]


def hydrostatic_sigma2_km2_s2(
    x: np.ndarray, m200c_msun: float, r200c_mpc: float, c_dm: float, c_gas: float,
    nonthermal_r200: float, x_out: float = 6.0,
) -> np.ndarray:
    """Thermal P / rho_gas [(km/s)^2] at radii ``x`` = r / R200c of gas in hydrostatic equilibrium.

    The gas density has an NFW shape of concentration ``c_gas``; the total mass is NFW with
    ``c_dm``, normalised to M200c. Total pressure from dP/dr = -rho_g G M(<r) / r^2 with P = 0 at
    ``x_out`` R200c; the thermal part is (1 - f_nt(r)) of it, f_nt = f_nt(R200c) (r/R200c)^0.8,
    capped at 0.6. The gas temperature is T = mu m_p (P / rho) / k_B and its specific internal
    energy u = (P / rho) / (gamma - 1).
    """
    grid = np.geomspace(1e-3, x_out, 256)
    yg = c_gas * grid
    rho_shape = 1.0 / (yg * (1.0 + yg) ** 2)
    m_enc = m200c_msun * nfw_mu(c_dm * grid) / nfw_mu(c_dm)
    integrand = rho_shape * G_MPC_KM2_S2_MSUN * m_enc / (r200c_mpc * grid**2)
    # integrate from the outside in: P(x) = int_x^x_out integrand dx
    seg = 0.5 * (integrand[1:] + integrand[:-1]) * np.diff(grid)
    pressure = np.concatenate([np.cumsum(seg[::-1])[::-1], [0.0]])
    sigma2_total = pressure / rho_shape
    f_nt = np.minimum(nonthermal_r200 * grid**0.8, 0.6)
    sigma2_thermal = (1.0 - f_nt) * sigma2_total
    return np.interp(np.asarray(x), grid, sigma2_thermal)
