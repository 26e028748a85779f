"""Particle realisations of mock haloes: NFW dark matter, Hernquist stars, random directions.
(Gas radii and temperatures come from the calibrated gas model, :mod:`pipeline.mock.gas_model`.)"""

from __future__ import annotations

import numpy as np

from ..physics.nfw import nfw_mu

__all__ = [
    "sample_nfw_radii",
    "sample_hernquist_radii",
    "isotropic_offsets",
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
