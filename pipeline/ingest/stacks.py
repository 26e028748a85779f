"""Ingest of stacked gas profiles (input kind ``stacks``): one row per stack.

Each stack (suite, simulation, snapshot, halo-mass bin) becomes one "halo" with the bin's mean
M200c. R200c follows from M200c and the cosmology at the snapshot's redshift; R500c from an NFW
halo of the Duffy et al. (2008) mean concentration (the stacks carry no total-mass profile).
Y, gas masses, c_gas and the gas-mass-weighted temperature and metallicity are volume integrals of
the mean profiles (interpolation in :mod:`pipeline.physics.profile_integrals`).

Rule for stacks of few haloes: stacks with fewer than ``min_halos`` haloes are dropped (counted in
the table metadata); the others keep their halo count in ``n_halos`` for reference. In the real
CAMELS 1P stacks every stack holds at least 23 haloes, so the default (10) drops none.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..columns import HALO_COLUMNS
from ..errors import DataError, InputFileError
from ..io.camels_stacks import (
    MASS_BINS,
    profile_path,
    read_profile_stack,
    read_simulation_table,
    read_snapshot_redshifts,
)
from ..physics.cosmology import flat_lcdm, halo_radius_mpc
from ..physics.nfw import duffy08_concentration, r500_over_r200
from ..physics.profile_integrals import compton_y_from_pressure_mpc2, enclosed_integral
from ..provenance import provenance

__all__ = ["StackOptions", "measure_stack", "measure_suite_stacks", "stack_files"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StackOptions:
    """hubble_param, omega_b: cosmology of the runs (CAMELS 1P: 0.6711, 0.049);
    min_halos: stacks with fewer haloes are dropped; mass_bins: file mass-bin labels to read."""

    hubble_param: float = 0.6711
    omega_b: float = 0.049
    min_halos: int = 10
    mass_bins: tuple[str, ...] = MASS_BINS


def stack_files(root: str | Path, suite: str, sims: list[str], snapshots: list[int],
                mass_bins=MASS_BINS) -> list[Path]:
    """Every stack file a suite's study reads."""
    return [profile_path(root, suite, sim, snap, mb)
            for sim in sims for snap in snapshots for mb in mass_bins]


def measure_stack(path: str | Path, redshift: float, omega_m: float, options: StackOptions) -> dict:
    """Per-stack quantities (physical units) of one profile file."""
    stack = read_profile_stack(path)
    cosmo = flat_lcdm(options.hubble_param, omega_m, options.omega_b)
    m200 = stack.mean_m200c.to_value(u.Msun)
    r200 = float(halo_radius_mpc(m200, cosmo, redshift, 200.0))
    c200 = float(duffy08_concentration(m200, redshift, options.hubble_param))
    x500 = float(r500_over_r200(np.array([c200]))[0])
    r500 = x500 * r200
    m500 = 500.0 / 200.0 * x500**3 * m200
    r = stack.radius.to_value(u.Mpc)
    if r200 > r[-1]:
        raise InputFileError(f"profile file {path}: R200c = {r200:.3f} Mpc lies beyond the last radius")
    rho = stack.mean("density").to_value(u.Msun / u.Mpc**3)
    mgas = enclosed_integral(r, rho, np.array([r200, r500, 0.5 * r200]))
    temp = stack.mean("temperature").to_value(u.K)
    metal = stack.mean("metallicity").value
    t_mw = enclosed_integral(r, [rho, temp], r200) / mgas[0] if np.all(temp > 0) else np.nan
    z_mw = enclosed_integral(r, [rho, metal], r200) / mgas[0]
    y200, y500 = compton_y_from_pressure_mpc2(stack.radius, stack.mean("pressure"),
                                              np.array([r200, r500]) * u.Mpc)
    return {
        "M200c": m200, "R200c": r200, "M500c": m500, "R500c": r500,
        "Y200c": float(y200), "Y500c": float(y500),
        "Mgas200c": mgas[0], "Mgas500c": mgas[1], "Mgas_half200c": mgas[2],
        "Mstar200c": np.nan, "Mdm200c": np.nan,
        "T_mw200c": t_mw, "Z_mw200c": z_mw, "c_gas": mgas[2] / mgas[0],
        "f_gas200c": mgas[0] / m200, "Vmax": np.nan, "c_NFW": np.nan,
        "n_halos": stack.n_halos, "n_profiles": stack.n_profiles,
    }


def measure_suite_stacks(
    root: str | Path, suite: str, sims: list[str], snapshots: list[int], options: StackOptions,
) -> Table:
    """One row per stack of ``suite``: the per-halo columns (``pipeline.columns``) plus suite, sim,
    snapshot, redshift, mass_bin, n_halos, n_profiles and the simulation parameters."""
    root = Path(root)
    params = read_simulation_table(root / "simulations.csv")
    redshifts = read_snapshot_redshifts(root / "snapshots.csv")
    rows, dropped = [], 0
    for sim in sims:
        if (suite, sim) not in params:
            raise InputFileError(f"{root / 'simulations.csv'} has no row for {suite} {sim}")
        for snap in snapshots:
            if (suite, int(snap)) not in redshifts:
                raise InputFileError(f"{root / 'snapshots.csv'} has no redshift for {suite} {snap:03d}")
            z = redshifts[(suite, int(snap))]
            for mass_bin in options.mass_bins:
                path = profile_path(root, suite, sim, snap, mass_bin)
                row = measure_stack(path, z, params[(suite, sim)]["Omega_m"], options)
                if row["n_halos"] < options.min_halos:
                    dropped += 1
                    continue
                row.update({"suite": suite, "sim": sim, "snapshot": int(snap), "redshift": z,
                            "mass_bin": mass_bin, **params[(suite, sim)]})
                rows.append(row)
    if not rows:
        raise DataError(
            f"{suite}: every stack has fewer than stacks.min_halos = {options.min_halos} haloes")
    table = Table(rows=rows)
    for col in HALO_COLUMNS:
        if col.name in table.colnames and col.unit:
            table[col.name].unit = u.Unit(col.unit)
        if col.name in table.colnames:
            table[col.name].description = col.definition
    table["N_gas200c"] = np.full(len(table), -1)  # no particles: the gas-particle cut does not apply
    table.meta.update({
        "suite": suite, "input_kind": "stacks", "root": str(root),
        "star_forming_gas": "include (the CAMELS stack files include star-forming gas)",
        "cosmology": {"h": options.hubble_param, "Omega_b": options.omega_b},
        "stacks_dropped_few_halos": dropped,
        "provenance": provenance("ingest_stacks", asdict(options)),
    })
    log.info("%s: %d stacks measured, %d dropped (fewer than %d haloes)", suite, len(rows), dropped,
             options.min_halos)
    return table
