"""Neutral hydrogen of the mock's gas cells, with a planted, documented answer.

HI-poor haloes sit in dense surroundings at fixed mass (Wadekar et al. 2020, arXiv:2012.00111);
the mock plants that per code. Every non-star-forming gas cell of a halo gets the halo's neutral
fraction (``NeutralHydrogenAbundance``, n_HI / n_H)

    f_HI = HI_FRACTION[suite] x exp(-HI_ENVIRONMENT_SLOPE[suite] x min(delta_5, 5)) x 10^N(0, 0.05)

(capped at 1), delta_5 the overdensity of the other haloes' M200c within ``HI_RADIUS_MPC``
physical Mpc over the box's mean (:func:`pipeline.mock.subhalos.halo_overdensity`: the
pipeline's ``overdensity_5mpc`` column when its tracers include every mock halo). So, measured
in R200c, MHI200c = X_H f_HI (Mgas200c - star-forming gas) with X_H of the cells (0.76 for the
TNG-like code's 1-D metallicity, 1 - Z - Y for the SIMBA-like 2-D one): at fixed halo mass the HI
follows the gas mass (by construction, not a discovery) and the environment (the planted answer),
with a 0.05 dex floor beside the particle noise.

Star-forming cells store ``SF_STORED_NEUTRAL_FRACTION`` (0.9, as a snapshot's effective-EOS value
would stand), and their internal energy is that of 10^5.5 K gas, above the hot phase of
Springel & Hernquist (2003) at their density: the ``cold_phase`` rule gives them no HI, ``stored``
0.9, ``exclude`` none. Background (intergalactic) cells are ionised (0).
"""

from __future__ import annotations

import numpy as np

from .subhalos import halo_overdensity

__all__ = ["HI_FRACTION", "HI_ENVIRONMENT_SLOPE", "HI_RADIUS_MPC", "HI_SCATTER_DEX",
           "SF_STORED_NEUTRAL_FRACTION", "halo_hi_fractions", "cell_neutral_fractions"]

#: neutral fraction of a halo's gas at the mean density, per code
HI_FRACTION = {"IllustrisTNG": 0.02, "SIMBA": 0.03, "Astrid": 0.015}
#: how fast it falls with the overdensity delta_5 (e-folds per unit delta), per code
HI_ENVIRONMENT_SLOPE = {"IllustrisTNG": 0.30, "SIMBA": 0.20, "Astrid": 0.40}
HI_RADIUS_MPC = 5.0
HI_SCATTER_DEX = 0.05
SF_STORED_NEUTRAL_FRACTION = 0.9
_DELTA_SATURATION = 5.0


def halo_hi_fractions(rng: np.random.Generator, centre_mpc: np.ndarray, m200c_msun: np.ndarray,
                      box_mpc: float, suite: str) -> tuple[np.ndarray, np.ndarray]:
    """(f_HI, delta_5) of every halo (module docstring)."""
    delta = halo_overdensity(centre_mpc, m200c_msun, box_mpc, HI_RADIUS_MPC)
    f_hi = (HI_FRACTION[suite] * np.exp(-HI_ENVIRONMENT_SLOPE[suite]
                                        * np.minimum(delta, _DELTA_SATURATION))
            * 10 ** (HI_SCATTER_DEX * rng.standard_normal(len(delta))))
    return np.minimum(f_hi, 1.0), delta


def cell_neutral_fractions(idx_gas: np.ndarray, star_forming: np.ndarray, f_halo: np.ndarray,
                           n_background: int) -> np.ndarray:
    """NeutralHydrogenAbundance of the halo cells (in ``idx_gas`` order), then of
    ``n_background`` intergalactic cells."""
    halo_cells = np.where(star_forming, SF_STORED_NEUTRAL_FRACTION, f_halo[idx_gas])
    return np.concatenate([halo_cells, np.zeros(n_background)])
