"""Per-halo gas sums in one compiled pass: aperture search and gas thermodynamics fused.

Per particle inside a sphere the kernel forms, from the raw snapshot fields, the weights

    mgas    gas mass [Msun]
    y       integrated Compton-y [physical Mpc^2]            } star-forming gas left out
    mhot    mass of the gas in the thermal sums [Msun]         } unless include_star_forming
    mhot_t  mhot x temperature [Msun K]                        }
    ngas    particle count
    mz      metal mass [Msun] (metallicity x mass; 0 when the snapshot has no metallicity)

with the formulas of :mod:`pipeline.physics.gas` (T = (gamma - 1) u mu m_p / k_B,
mu = 4 / (1 + 3 X_H + 4 X_H x_e), N_e = x_e X_H m / m_p, y = sigma_T k_B N_e T / (m_e c^2)).
Fusing them into the search avoids gathering the selected particles' fields (six fancy-indexed
copies per chunk) and a second pass over the cell table; tests check it against the numpy path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..physics.gas import (
    ELECTRONS_PER_MSUN_PER_XE,
    GAMMA,
    KELVIN_PER_MU_KM2_S2,
    X_H,
    Y_PER_ELECTRON_KELVIN_MPC2,
)
from .apertures import (
    BATCH,
    HaloApertures,
    _batch_scratch,
    _distance2,
    _locate,
    _slot_of,
    run_blocks,
    shell_blocks,
)

__all__ = ["GAS_WEIGHTS", "gas_sums", "gas_shell_sums"]

GAS_WEIGHTS = ("mgas", "y", "mhot", "mhot_t", "ngas", "mz")


@njit(cache=True, nogil=True)
def _gas_block(pos, mass, u, xe, sfr, metal, mass_to_msun, sf_thermal, consts,
               box, inv_cell, n, coarse_block, block_slot, slot_start, slot_halo, slot_inside,
               centres, r2, lo, hi, partial):
    # gas particles [lo, hi) into partial (halo, aperture, weight)
    kelvin_per_mu_u, electrons_per_msun, y_per_electron_k, x_h = consts
    n_ap = r2.shape[1]
    has_metal = metal.shape[0] == pos.shape[0]
    w = np.zeros(6)
    for i in range(lo, hi):
        s, x, y, z = _slot_of(pos[i, 0], pos[i, 1], pos[i, 2], box, inv_cell, n, coarse_block,
                              block_slot)
        if s < 0:
            continue
        ready = False
        for k in range(slot_start[s], slot_start[s + 1]):
            h = slot_halo[k]
            inside = slot_inside[k]
            if inside != (1 << n_ap) - 1:  # written out: see apertures.py
                d2 = _distance2(x, y, z, centres, h, box)
                for a in range(n_ap):
                    inside |= (d2 <= r2[h, a]) << a
            if inside == 0:
                continue
            if not ready:  # thermodynamics once per particle, and only inside a sphere
                m = mass[i] * mass_to_msun
                x_e = xe[i]
                temp = kelvin_per_mu_u * u[i] * 4.0 / (1.0 + 3.0 * x_h + 4.0 * x_h * x_e)
                # star-forming gas sits on an effective equation of state whose
                # temperature is not physical: left out of the thermal sums unless asked
                skip = sfr[i] > 0.0 and not sf_thermal
                w[0] = m
                w[1] = 0.0 if skip else y_per_electron_k * electrons_per_msun * x_e * m * temp
                w[2] = 0.0 if skip else m
                w[3] = w[2] * temp
                w[4] = 1.0
                w[5] = m * metal[i] if has_metal else 0.0
                ready = True
            for a in range(n_ap):
                held = 1.0 * ((inside >> a) & 1)  # branch-free, as in apertures.py
                for j in range(6):
                    partial[h, a, j] += held * w[j]


def gas_sums(spheres: HaloApertures, positions: np.ndarray, mass: np.ndarray,
             internal_energy_km2_s2: np.ndarray, electron_abundance: np.ndarray,
             star_formation_rate: np.ndarray, metallicity: np.ndarray | None,
             mass_to_msun: float, include_star_forming: bool = False,
             threads: int = 1) -> dict[str, np.ndarray]:
    """Per-halo sums ``{f"{weight}@{aperture}": (h,) array}`` of :data:`GAS_WEIGHTS` over the gas
    particles inside each of ``spheres``' apertures.

    Arrays are the snapshot's fields as read (any float dtype, one row per particle):
    ``positions`` (n, 3) in the spheres' length unit, ``mass`` in code units (times
    ``mass_to_msun`` gives Msun), ``internal_energy_km2_s2`` [(km/s)^2], ``electron_abundance``
    (n_e / n_H), ``star_formation_rate`` (> 0 marks star-forming gas), ``metallicity`` (mass
    fraction, 1-D; None when absent). ``include_star_forming``: whether star-forming gas enters
    the thermal weights (y, mhot, mhot_t); it always enters the mass, count and metal sums.
    """
    n_part = len(positions)
    fields = {"mass": mass, "internal_energy_km2_s2": internal_energy_km2_s2,
              "electron_abundance": electron_abundance, "star_formation_rate": star_formation_rate}
    if metallicity is not None:
        fields["metallicity"] = metallicity
    for name, arr in fields.items():
        if np.shape(arr) != (n_part,):
            raise ValueError(f"gas field {name} has shape {np.shape(arr)}, expected ({n_part},)")
    out = np.zeros((len(spheres.centres), len(spheres.names), len(GAS_WEIGHTS)))
    if n_part and len(spheres.centres):
        consts = (KELVIN_PER_MU_KM2_S2, ELECTRONS_PER_MSUN_PER_XE, Y_PER_ELECTRON_KELVIN_MPC2, X_H)
        metal = metallicity if metallicity is not None else np.zeros(0, dtype=np.float32)
        out = run_blocks(_gas_block, n_part, threads, out.shape, np.ascontiguousarray(positions),
                         mass, internal_energy_km2_s2, electron_abundance, star_formation_rate,
                         metal, float(mass_to_msun), bool(include_star_forming), consts,
                         *spheres._grid(), spheres.r2)
    return {f"{name}@{a}": out[:, j, k] for k, name in enumerate(GAS_WEIGHTS)
            for j, a in enumerate(spheres.names)}


@njit(cache=True, nogil=True)
def _gas_shell_block(pos, mass, u, xe, sfr, metal, length_scale, mass_to_msun, sf_thermal, consts,
                     box, inv_cell, n, coarse_block, block_slot, slot_start, slot_halo, centres,
                     edges2, lo, hi, partial):
    # the profile stage's shell sums (pipeline.particles.shells.ShellSums) of gas particles
    # [lo, hi) from the raw fields: per halo and shell m, (gamma-1) m_th u, m_th T, m Z, m_th and
    # the count, each formed with the operations, in the order, of the numpy path (profile_chunk,
    # then ShellSums.add), so the sums are the same to the bit. Every candidate pair adds to a
    # row: a pair outside the shells to a spare last row (partial has n_shell + 1 rows), which
    # the caller drops; "inside" holds for half the pairs, at random, and a branch on it was
    # mispredicted so often that it cost more than the adds (1.38 -> 1.28 s per CAMELS snapshot)
    kelvin_per_mu_u, gamma_m1, x_h = consts
    mu_a, mu_b = 1.0 + 3.0 * x_h, 4.0 * x_h
    n_shell = edges2.shape[0] - 1
    has_metal = metal.shape[0] == pos.shape[0]
    r2_lo, r2_hi = edges2[0], edges2[n_shell]
    slots, xyz = _batch_scratch()
    for b0 in range(lo, hi, BATCH):
        b1 = min(b0 + BATCH, hi)
        _locate(pos, b0, b1, length_scale, box, inv_cell, n, coarse_block, block_slot,
                slot_start, slot_halo, slots, xyz)
        for i in range(b0, b1):
            s = slots[i - b0]
            if s < 0:
                continue
            x, y, z = xyz[i - b0, 0], xyz[i - b0, 1], xyz[i - b0, 2]
            # the weights once per particle, as scalars (an array of them: 10% slower)
            m = np.float64(mass[i]) * mass_to_msun
            thermal = 1.0 if (sf_thermal or sfr[i] <= 0.0) else 0.0
            m_th = m * thermal
            u_i = np.float64(u[i])
            mu = 4.0 / (mu_a + mu_b * np.float64(xe[i]))
            pressure = gamma_m1 * m_th * u_i
            thermal_t = m_th * (kelvin_per_mu_u * mu * u_i)
            metals = m * (np.float64(metal[i]) if has_metal else 0.0)
            for k in range(slot_start[s], slot_start[s + 1]):
                h = slot_halo[k]
                d2 = _distance2(x, y, z, centres, h, box)
                shell = 0  # branch-free: the shell with edges2[shell] <= d2
                for j in range(1, n_shell):
                    shell += edges2[j] <= d2
                outside = (d2 < r2_lo) | (d2 >= r2_hi)
                shell += outside * (n_shell - shell)  # outside: the spare last row
                row = partial[h, shell]
                row[0] += m
                row[1] += pressure
                row[2] += thermal_t
                row[3] += metals
                row[4] += m_th
                row[5] += 1.0


def gas_shell_sums(spheres: HaloApertures, positions: np.ndarray, mass: np.ndarray,
                   internal_energy_km2_s2: np.ndarray, electron_abundance: np.ndarray,
                   star_formation_rate: np.ndarray, metallicity: np.ndarray | None,
                   length_scale: float, mass_to_msun: float, edges: np.ndarray,
                   include_star_forming: bool = False, threads: int = 1) -> np.ndarray:
    """(h, len(edges) - 1, 6): per halo of ``spheres`` and spherical shell between consecutive
    ``edges`` (the spheres' length unit), the sums of m [Msun], (gamma-1) m_th u, m_th T
    [Msun K], m Z, m_th (m_th: the mass in the thermal sums, star-forming gas left out unless
    ``include_star_forming``) and the particle count, from the snapshot's gas fields as read
    (see :func:`gas_sums`); ``positions`` times ``length_scale`` are in the spheres' unit."""
    edges = np.asarray(edges, dtype=np.float64)
    n_part = len(positions)
    if n_part == 0 or len(spheres.centres) == 0:
        return np.zeros((len(spheres.centres), len(edges) - 1, 6))
    if edges[-1] ** 2 > spheres.r2_search.min() * (1 + 1e-12):
        raise ValueError("the outermost shell edge exceeds a halo's search radius")
    metal = metallicity if metallicity is not None else np.zeros(0, dtype=np.float32)
    consts = (KELVIN_PER_MU_KM2_S2, GAMMA - 1.0, X_H)
    box, inv_cell, n, coarse_block, block_slot, start, halo, _, centres = spheres._grid()
    return run_blocks(_gas_shell_block, n_part, shell_blocks(threads), (len(centres), len(edges), 6),
                      np.ascontiguousarray(positions), mass, internal_energy_km2_s2,
                      electron_abundance, star_formation_rate, metal, float(length_scale),
                      float(mass_to_msun), bool(include_star_forming), consts, box, inv_cell, n,
                      coarse_block, block_slot, start, halo, centres, edges**2, threads=threads)[:, :-1]
