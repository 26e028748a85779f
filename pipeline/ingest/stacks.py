"""Ingest of stacked gas profiles (input kind ``stacks``): one row per stack.

Each stack (suite, simulation, snapshot, halo-mass bin) becomes one "halo" with the bin's mean
M200c. R200c follows from M200c and the cosmology at the snapshot's redshift; R500c from an NFW
halo of the Duffy et al. (2008) mean concentration (the stacks carry no total-mass profile).
Y, gas masses, c_gas and the gas-mass-weighted temperature and metallicity are volume integrals of
the mean profiles (interpolation in :mod:`pipeline.physics.profile_integrals`).

Scale: the stacks of a suite are measured in blocks of simulations (one job each), every file on
disk of those simulations, whatever the study asks for. The blocks depend only on the folder's
content, so the tables are a cache that every study reading the same files shares
(``results/_stacks/``); the study's samples pick their simulations, snapshots and mass bins at
assemble (:func:`select_stacks`).

Rule for stacks of few haloes: stacks with fewer than ``min_halos`` haloes are dropped at that
selection (counted in the table metadata); the others keep their halo count in ``n_halos`` for
reference. In the real CAMELS 1P stacks every stack holds at least 23 haloes, so the default
(10) drops none. The halo count comes from the file's ``Nhalos`` line or, in extractions without
one, its ``nprofs`` (column ``n_halos_from``).

``MEASUREMENT_VERSION`` enters the cache key: raise it whenever a change to this module or to
the profile integrals changes the measured numbers, so that no study reads stale tables.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..columns import HALO_COLUMNS
from ..defaults import SCHEMA, schema_defaults
from ..errors import DataError, InputFileError
from ..io.camels_stacks import (
    list_stack_files,
    read_profile_stack,
    stack_parameters,
    stack_redshifts,
)
from ..physics.cosmology import flat_lcdm, halo_radius_mpc
from ..physics.nfw import duffy08_concentration, r500_over_r200
from ..physics.profile_integrals import compton_y_from_pressure_mpc2, enclosed_integral
from ..provenance import provenance
from ..study_record import Sample

#: version of the stack measurement, part of the cache key (2: core slope capped at -2)
MEASUREMENT_VERSION = 2

__all__ = ["StackOptions", "measure_stack", "measure_stack_block", "select_stacks",
           "measure_suite_stacks", "stack_blocks", "missing_stacks", "missing_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
@schema_defaults("stacks")
class StackOptions:
    """hubble_param, omega_b: cosmology of the runs (CAMELS 1P: 0.6711, 0.049);
    min_halos: stacks with fewer haloes are dropped (at selection); mass_bins: file mass-bin
    labels a sample reads by default."""

    hubble_param: float = SCHEMA
    omega_b: float = SCHEMA
    min_halos: int = SCHEMA
    mass_bins: tuple[str, ...] = SCHEMA


def _natural(name: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def stack_blocks(listing: dict[str, dict], block_size: int) -> list[tuple[str, list[str]]]:
    """The suite's simulations (from :func:`pipeline.io.camels_stacks.list_stack_files`) in
    natural order, cut into blocks of ``block_size``: [(block id, sims)]. The ids name the first
    and last simulation and the count, so a folder whose content changes gets new blocks."""
    sims = sorted(listing, key=_natural)
    out = []
    for start in range(0, len(sims), block_size):
        block = sims[start:start + block_size]
        out.append((f"{block[0]}--{block[-1]}--{len(block)}", block))
    return out


def missing_stacks(samples: Mapping[str, Sample], listings: dict[tuple[str, str], dict[str, dict]]
                   ) -> list[tuple[str, str, int, str]]:
    """(sample, simulation, snapshot, mass bin) of every stack a sample asks for that has no file
    (``listings``: (root, suite) -> the folder listing; a sample's root is its ``root``)."""
    out = []
    for name, sample in samples.items():
        files = listings.get((sample.root, sample.suite), {})
        for sim in sample.sims:
            have = files.get(sim, {})
            for snap in sample.snapshots:
                for mass_bin in sample.mass_bins:
                    if (int(snap), mass_bin) not in have:
                        out.append((name, sim, int(snap), mass_bin))
    return out


def missing_report(samples: Mapping[str, Sample], absent: list[tuple[str, str, int, str]]
                   ) -> dict[str, dict[str, dict[str, int]]]:
    """Per sample that lacks some stacks (:func:`missing_stacks`) and per mass bin: the number
    of stacks expected (simulations x snapshots) and found. DataError for a sample left with no
    stack at all."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for name, sample in samples.items():
        lacking = [a for a in absent if a[0] == name]
        if not lacking:
            continue
        expected = len(sample.sims) * len(sample.snapshots)
        per_bin = {b: {"expected": expected,
                       "found": expected - sum(1 for a in lacking if a[3] == b)}
                   for b in sample.mass_bins}
        if not any(v["found"] for v in per_bin.values()):
            raise DataError(f"sample {name!r}: none of its {expected * len(per_bin)} stacks exists "
                            f"under {sample.root} (suite {sample.suite}, e.g. simulation "
                            f"{lacking[0][1]}, snapshot {lacking[0][2]:03d}, mass bin "
                            f"{lacking[0][3]}): check its root, suite, sims and snapshots")
        out[name] = per_bin
        log.info("sample %s: stacks expected/found per mass bin: %s", name,
                 {b: f"{v['found']}/{v['expected']}" for b, v in per_bin.items()})
    return out


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
        "n_halos_from": stack.n_halos_from,
    }


def _with_units(table: Table) -> Table:
    for col in HALO_COLUMNS:
        if col.name in table.colnames and col.unit:
            table[col.name].unit = u.Unit(col.unit)
        if col.name in table.colnames:
            table[col.name].description = col.definition
    return table


def measure_stack_block(root: str | Path, suite: str, sims: list[str],
                        options: StackOptions = StackOptions()) -> Table:
    """One row per stack file on disk of ``sims`` of ``suite``: the per-halo columns
    (``pipeline.columns``) plus suite, sim, snapshot, redshift, mass_bin, n_halos, n_profiles,
    n_halos_from and the simulation parameters (``root`` an emu_CAMELS clone or a flat folder,
    :mod:`pipeline.io.camels_stacks`). Files whose snapshot has no known redshift or whose
    simulation has no parameters are skipped and counted (a study that asks for them is stopped
    at assemble)."""
    root = Path(root)
    listing = list_stack_files(root, suite)
    params = stack_parameters(root, suite, [s for s in sims if s in listing])
    redshifts = stack_redshifts(root)
    rows, skipped = [], {"no redshift": 0, "no parameters": 0}
    for sim in sims:
        files = listing.get(sim, {})
        for (snap, mass_bin), path in sorted(files.items()):
            if (suite, sim) not in params:
                skipped["no parameters"] += 1
                continue
            if (suite, snap) not in redshifts:
                skipped["no redshift"] += 1
                continue
            z = redshifts[(suite, snap)]
            row = measure_stack(path, z, params[(suite, sim)]["Omega_m"], options)
            row.update({"suite": suite, "sim": sim, "snapshot": snap, "redshift": z,
                        "mass_bin": mass_bin, **params[(suite, sim)]})
            rows.append(row)
    if not rows:
        raise DataError(f"no stack file of suite {suite} simulations {sims[:3]}... under {root} "
                        f"could be measured (skipped: {skipped})")
    table = _with_units(Table(rows=rows))
    table["N_gas200c"] = np.full(len(table), -1)  # no particles: the gas-particle cut does not apply
    table.meta.update({
        "suite": suite, "input_kind": "stacks", "root": str(root), "sims": list(sims),
        "star_forming_gas": "include (the CAMELS stack files include star-forming gas)",
        "cosmology": {"h": options.hubble_param, "Omega_b": options.omega_b},
        "files_skipped": skipped,
        "n_halos_from": sorted(set(table["n_halos_from"])),
        "provenance": provenance("ingest_stacks", {"hubble_param": options.hubble_param,
                                                   "omega_b": options.omega_b}),
    })
    log.info("%s: %d stacks of %d simulations measured (skipped: %s)", suite, len(rows),
             len(sims), skipped)
    return table


def select_stacks(table: Table, sims: list[str], snapshots: list[int], mass_bins: list[str],
                  min_halos: int, where: str = "", skip_missing: bool = False) -> tuple[Table, int]:
    """The rows of ``table`` (measured stacks) a sample asks for, without those of fewer than
    ``min_halos`` haloes; (rows, number dropped). DataError naming ``where`` (the sample) and the
    first missing stacks when some are not in the table, unless ``skip_missing`` (the sample's
    ``missing: skip``; the workflow counted them); DataError when none is left."""
    key = list(zip(np.asarray(table["sim"]).astype(str).tolist(), np.asarray(table["snapshot"]).tolist(),
                   np.asarray(table["mass_bin"]).astype(str).tolist(), strict=True))
    wanted = {(s, int(n), b) for s in sims for n in snapshots for b in mass_bins}
    keep = np.array([k in wanted for k in key], dtype=bool)
    found = {k for k, kept in zip(key, keep, strict=True) if kept}
    absent = sorted(wanted - found, key=str)
    if absent and not skip_missing:
        raise DataError(
            f"{where}: {len(absent)} stack(s) asked for were not measured (no file, or no known "
            f"parameters or redshift), e.g. (sim, snapshot, mass bin) {absent[:5]}")
    few = keep & (np.asarray(table["n_halos"]) < min_halos)
    dropped = int(few.sum())
    selected = table[keep & ~few]
    if not keep.any():
        raise DataError(f"{where}: none of the {len(wanted)} stacks asked for was measured")
    if len(selected) == 0:
        raise DataError(f"{where}: every stack has fewer than stacks.min_halos = {min_halos} haloes")
    return selected, dropped


def measure_suite_stacks(
    root: str | Path, suite: str, sims: list[str], snapshots: list[int], options: StackOptions,
) -> Table:
    """The stacks of ``sims`` x ``snapshots`` x ``options.mass_bins`` of ``suite``, those of few
    haloes dropped (count in ``meta['stacks_dropped_few_halos']``): measurement and selection in
    one call."""
    table, dropped = select_stacks(measure_stack_block(root, suite, sims, options), sims,
                                   [int(s) for s in snapshots], list(options.mass_bins),
                                   options.min_halos, where=suite)
    table.meta["stacks_dropped_few_halos"] = dropped
    log.info("%s: %d stacks selected, %d dropped (fewer than %d haloes)", suite, len(table),
             dropped, options.min_halos)
    return table
