"""Assemble: join the per-snapshot halo tables, add self-similar scaled columns, apply cuts."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.table import Table, vstack

from ..columns import DERIVED_BY_ASSEMBLE, PARAMETER_COLUMNS
from ..defaults import section_defaults
from ..errors import DataError, InputFileError
from ..io.params import NOT_PARAMETERS
from ..io.tables import read_table
from ..provenance import provenance

__all__ = ["assemble_halos", "assemble_job", "add_derived_columns"]

log = logging.getLogger(__name__)

def add_derived_columns(table: Table) -> Table:
    """Add the derived columns of the registry (:data:`pipeline.columns.DERIVED_BY_ASSEMBLE`:
    each row's ``compute``, in the registry's order; needs ``Ez`` and ``f_b``). A non-positive
    value under a logarithm gives NaN, which the selection and the stages then handle."""
    with np.errstate(divide="ignore", invalid="ignore"):
        for column in DERIVED_BY_ASSEMBLE:
            assert column.compute is not None
            table[column.name] = column.compute(table)
    return table


def _cosmology_columns(table: Table, path: Path, cosmology: dict, omega_b: float) -> None:
    """Omega_b and f_b = Omega_b / Omega_m per row: the parameter table's Omega_b where it has
    one, else the file's (snapshot header, stacks options), else ``omega_b``."""
    n = len(table)
    from_params = (np.asarray(table["Omega_b"], dtype=float) if "Omega_b" in table.colnames
                   else np.full(n, np.nan))
    from_file = float(cosmology.get("Omega_b", np.nan))
    fallback = from_file if np.isfinite(from_file) and from_file > 0 else omega_b
    values = np.where(np.isfinite(from_params), from_params, fallback)
    if np.any(values <= 0) or np.any(values >= np.asarray(table["Omega_m"], dtype=float)):
        raise DataError(f"halo table {path}: Omega_b {sorted(set(values.tolist()))[:3]} is not "
                        "in (0, Omega_m): check the parameter table's Omega_b or data.omega_b")
    table["Omega_b"] = values
    table["f_b"] = values / np.asarray(table["Omega_m"], dtype=float)


#: how far a parameter file's cosmology may differ from the snapshot header's (the CAMELS files
#: print five decimals)
HEADER_TOLERANCE = 1e-3


def _header_agrees(path: Path, meta: dict, params: dict, params_file, sim: str) -> None:
    """InputFileError naming both files and both values where the parameter file's Omega_m (or
    Omega_b) disagrees with the snapshot header's: one of them belongs to another simulation."""
    cosmology = meta.get("cosmology") or {}
    snapshot = (meta.get("snapshot_files") or meta.get("catalog_files") or [path])[0]
    for name, header_key in (("Omega_m", "Omega0"), ("Omega_b", "OmegaBaryon")):
        in_file, in_header = params.get(name), cosmology.get(name)
        if in_file is None or in_header is None:
            continue
        in_file, in_header = float(in_file), float(in_header)
        if np.isfinite(in_file) and np.isfinite(in_header) \
                and abs(in_file - in_header) > HEADER_TOLERANCE:
            raise InputFileError(
                f"parameter file {params_file} gives {name} = {in_file:g} for simulation {sim}, "
                f"but its snapshot {snapshot} says {header_key} = {in_header:g} (halo table {path}): "
                "the parameter file or the snapshot belongs to another simulation (check "
                "data.root, the sample's set and the parameter file's rows)")


def _one(path: Path, set_params: dict[tuple[str, str, str], tuple],
         omega_b: float) -> Table:
    """A halo table with per-row suite, volume, set, sim, snapshot, redshift, E(z) and parameter
    columns.

    Per-snapshot ingest tables carry these in their metadata, the simulation parameters there or
    in ``set_params`` ((suite, volume, set) -> (parameter file, sim -> parameters));
    stacked-profile tables carry them as columns.
    """
    table = read_table(path)
    catalog = table.meta.get("rows") in ("subhalos", "groups")  # input kind catalog
    missing = [c for c in (["group_index"] if catalog else ["M200c", "Y200c", "N_gas200c"])
               if c not in table.colnames]
    if missing:
        raise InputFileError(f"table {path} lacks column(s) {missing}; it has {table.colnames}")
    meta = table.meta
    n = len(table)
    for key in ("suite", "sim", "snapshot", "redshift"):
        if key in table.colnames:
            continue
        if key not in meta:
            raise DataError(
                f"halo table {path} has neither a '{key}' column nor metadata (written by ingest?)")
        table[key] = [meta[key]] * n if key in ("suite", "sim") else np.full(n, meta[key])
    for key in ("volume", "set"):
        if key not in table.colnames:
            table[key] = [str(meta.get(key, ""))] * n
    if "root" in meta:  # a stacks block names its root: two roots may hold one suite
        table["data_root"] = [os.path.abspath(str(meta["root"]))] * n
    cosmology = meta.get("cosmology", {})
    params = meta.get("params") or {}
    suite = str(table["suite"][0]) if n else meta.get("suite")
    source = (suite, str(meta.get("volume", "")), str(meta.get("set", "")))
    params_file, found = set_params.get(source, set_params.get((suite, "", ""), (None, None)))
    if not params and found is not None:
        sim = str(table["sim"][0]) if n else meta.get("sim")
        if n and sim not in found:
            raise DataError(f"halo table {path}: simulation {sim} of suite {suite} has no row in "
                            f"its set's parameter file {params_file} (rows: {sorted(found)[:5]}...)")
        params = found.get(sim, {})
        _header_agrees(path, meta, params, params_file, sim)
    # the standard six, and any other parameter the simulation table carries (the CAMELS
    # 28-parameter files' WindEnergyIn1e51erg, ...): each a column of its own name
    for name in dict.fromkeys([*PARAMETER_COLUMNS, *(k for k in params if k not in NOT_PARAMETERS)]):
        if name not in table.colnames:
            table[name] = np.full(n, float(params.get(name, np.nan)))
    omega_m = np.asarray(table["Omega_m"], dtype=float)
    if "Omega_m" in cosmology:
        omega_m = np.where(np.isfinite(omega_m), omega_m, cosmology["Omega_m"])
    if not np.isfinite(omega_m).all():
        raise DataError(f"halo table {path}: Omega_m unknown (no parameter column or cosmology)")
    z = np.asarray(table["redshift"], dtype=float)
    table["Ez"] = np.sqrt(omega_m * (1.0 + z) ** 3 + 1.0 - omega_m)  # flat, no radiation
    table["Omega_m"] = omega_m
    _cosmology_columns(table, path, cosmology, omega_b)
    return table


def _sample_rows(table: Table, samples: dict[str, dict] | None, min_halos: int
                 ) -> tuple[Table, dict[str, int]]:
    """The rows of every sample, with a ``sample`` column (a row two samples share appears
    once per sample), and per sample the stacks dropped for too few haloes. Without
    ``samples``, each suite is its own sample."""
    from .stacks import select_stacks

    if samples is None:
        table["sample"] = np.asarray(table["suite"]).astype(str)
        return table, {}
    parts, dropped = [], {}
    suites = np.asarray(table["suite"]).astype(str)
    sims = np.asarray(table["sim"]).astype(str)
    snaps = np.asarray(table["snapshot"]).astype(int)
    stacked = "mass_bin" in table.colnames
    for name, sample in samples.items():
        in_suite = suites == sample["suite"]
        if stacked and "root" in sample and "data_root" in table.colnames:
            in_suite &= np.asarray(table["data_root"]).astype(str) == os.path.abspath(sample["root"])
        if stacked:
            part, dropped[name] = select_stacks(table[in_suite], sample["sims"],
                                                [int(s) for s in sample["snapshots"]],
                                                sample["mass_bins"], min_halos, where=f"sample {name}",
                                                skip_missing=sample.get("missing") == "skip")
        else:
            mask = (in_suite & (np.asarray(table["volume"]).astype(str) == sample["volume"])
                    & (np.asarray(table["set"]).astype(str) == sample["set"])
                    & np.isin(sims, sample["sims"]) & np.isin(snaps, [int(s) for s in sample["snapshots"]]))
            part = table[mask]
            have = {(s, int(n)) for s, n in zip(sims[mask], snaps[mask], strict=True)}
            absent = [(s, int(n)) for s in sample["sims"] for n in sample["snapshots"]
                      if (s, int(n)) not in have]
            if absent and len(part):
                log.info("sample %s: %d (simulation, snapshot) without a measured halo, e.g. %s",
                         name, len(absent), absent[:3])
        part = part.copy()
        part["sample"] = [name] * len(part)
        if stacked:  # stack files do not name their set: the sample that reads them does
            part["set"] = [str(sample.get("set", ""))] * len(part)
        parts.append(part)
    return vstack(parts, metadata_conflicts="silent"), dropped


def _refuse_duplicates(table: Table) -> None:
    """The same halo twice (a snapshot or simulation listed twice) would count twice."""
    key_columns = [c for c in ("sample", "suite", "sim", "snapshot", "group_index", "subhalo_index",
                               "mass_bin") if c in table.colnames]
    if not {"group_index", "mass_bin"} & set(key_columns):
        return  # nothing names a halo within its snapshot
    keys = list(zip(*(np.asarray(table[c]).astype(str).tolist() for c in key_columns), strict=True))
    if len(set(keys)) != len(keys):
        seen, twice = set(), []
        for k in keys:
            if k in seen:
                twice.append(k)
            seen.add(k)
        raise DataError(f"assemble: {len(twice)} halo(es) appear twice ({', '.join(key_columns)}: "
                        f"{twice[:3]}); is a snapshot or simulation listed twice?")


def _is_catalog_rows(table: Table) -> bool:
    """Rows of input kind catalog (no Y: selected by the catalog's own options at ingest)."""
    return "Y200c" not in table.colnames


def _cuts(table: Table, selection: dict) -> dict[str, np.ndarray]:
    """Each cut of the selection as a mask of the haloes it keeps, in the order applied (none
    for catalog rows: the catalog section's cuts were applied when they were read)."""
    if _is_catalog_rows(table):
        return {}
    lm = np.asarray(table["log10_M200c"])
    n_gas = np.asarray(table["N_gas200c"])
    with np.errstate(invalid="ignore"):
        return {
            f"log10 M200c < {selection['log10_mass_min_msun']:g}": lm >= selection["log10_mass_min_msun"],
            f"log10 M200c >= {selection['log10_mass_max_msun']:g}": lm < selection["log10_mass_max_msun"],
            # particle-free inputs (stacked profiles) mark N_gas200c = -1: the cut does not apply
            f"fewer than {selection['min_gas_particles']} gas particles":
                (n_gas >= selection["min_gas_particles"]) | (n_gas < 0),
            "Y200c not positive": np.asarray(table["Y200c"]) > 0,
        }


def _log_cuts(table: Table, cuts: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """Log, per sample and simulation, how many haloes each cut removed (a halo counts for the
    first cut it fails), warn where the quality cuts (gas particles, Y) remove most of a
    simulation's haloes in the mass range or a simulation loses every halo; return the counts
    per sample and cut."""
    names = list(cuts)
    if not names:
        return {s: {} for s in dict.fromkeys(np.asarray(table["sample"]).astype(str))}
    first_fail = np.full(len(table), -1)
    for i, name in enumerate(names):
        first_fail[(first_fail < 0) & ~cuts[name]] = i
    samples = np.asarray(table["sample"]).astype(str)
    sims = np.asarray(table["sim"]).astype(str)
    per_sample = {}
    for sample in dict.fromkeys(samples):
        in_sample = samples == sample
        per_sample[sample] = {n: int(np.sum(in_sample & (first_fail == i))) for i, n in enumerate(names)}
        for sim in np.unique(sims[in_sample]):
            rows = in_sample & (sims == sim)
            counts = {n: int(np.sum(rows & (first_fail == i))) for i, n in enumerate(names)}
            kept = int(np.sum(rows & (first_fail < 0)))
            log.info("%s %s: %d haloes, removed %s, kept %d", sample, sim, int(rows.sum()),
                     ", ".join(f"{n}: {c}" for n, c in counts.items() if c) or "none", kept)
            if kept == 0:
                log.warning("%s %s: the selection removes every halo of this simulation", sample, sim)
            else:
                _check_quality_cuts(table, rows, first_fail, sample, sim)
    return per_sample


def _check_quality_cuts(table: Table, rows: np.ndarray, first_fail: np.ndarray, sample: str,
                        sim: str) -> None:
    """Warn where the quality cuts (gas particles, Y) remove most of a simulation's *heavier*
    haloes (the upper half of its mass range, which any working run resolves): under-resolved
    or broken output. Where they remove most haloes near the mass floor only, the low-mass haloes
    are gas-poor (strong feedback blows the gas out: CAMELS SIMBA with a high A_AGN1), which is
    physics, not a fault: said at INFO with the mass below which it happens."""
    in_range = rows & (first_fail != 0) & (first_fail != 1)
    quality = in_range & (first_fail >= 2)
    if not quality.any():
        return
    log_m = np.asarray(table["log10_M200c"], dtype=float)
    heavier = in_range & (log_m >= np.median(log_m[in_range]))
    lost_heavy = int(np.sum(quality & heavier))
    if lost_heavy > 0.5 * int(heavier.sum()):
        log.warning("%s %s: the gas-particle and Y cuts remove %d of its %d heavier haloes "
                    "(log10 M200c >= %.2f) and %d of %d in the mass range: under-resolved or "
                    "broken output?", sample, sim, lost_heavy, int(heavier.sum()),
                    float(np.median(log_m[in_range])), int(quality.sum()), int(in_range.sum()))
    elif quality.sum() > 0.5 * in_range.sum():
        log.info("%s %s: the gas-particle and Y cuts remove %d of its %d haloes in the mass "
                 "range, %d of them below log10 M200c %.2f: gas-poor low-mass haloes (feedback), "
                 "the heavier ones are kept", sample, sim, int(quality.sum()),
                 int(in_range.sum()), int(np.sum(quality & ~heavier)),
                 float(np.median(log_m[in_range])))


def _halo_counts_from_nprofs(table: Table) -> dict[str, int]:
    """Per sample, the stack files whose header has no ``Nhalos`` line, so that their halo count
    was read from ``nprofs`` (an extraction variant); said once per study (log and report),
    since ``stacks.min_halos`` selects on that count."""
    if "n_halos_from" not in table.colnames:
        return {}
    rows = np.asarray(table["n_halos_from"]) == "nprofs"
    counts = {str(s): int(np.sum(rows & (np.asarray(table["sample"]) == s)))
              for s in dict.fromkeys(table["sample"])}
    counts = {s: k for s, k in counts.items() if k}
    if counts:
        log.warning("%d of %d stack files have no 'Nhalos' header line: their halo count (for "
                    "stacks.min_halos) is read from 'nprofs' (per sample: %s)", sum(counts.values()),
                    len(table), counts)
    return counts


def assemble_halos(paths: Sequence[str | Path], selection: dict,
                   params_files: dict[str, str | Path] | None = None,
                   samples: dict[str, dict] | None = None, min_halos: int = 10,
                   omega_b: float | None = None, inputs_missing: dict | None = None) -> Table:
    """One table of all haloes of every sample passing ``selection`` (keys of the config's
    ``selection``), with a ``sample`` column.

    ``params_files`` maps a simulation set, ``"suite/volume/set"`` (or just the suite), to its
    parameter file (CAMELS ``CosmoAstroSeed_*.txt``): the simulation parameters are joined here,
    once per set, rather than by each ingest job (an edited parameter file then re-runs assemble,
    not every ingest). ``samples`` (name -> suite, volume, set, sims, snapshots[, mass_bins]) say
    which haloes belong to which sample; stacked profiles with fewer than ``min_halos`` haloes
    are dropped there. ``omega_b``: Omega_b where neither the parameter table nor the halo
    table's file gives it (default: the schema's ``data.omega_b``). ``inputs_missing``: what
    samples with ``missing: skip`` asked for and did not find (counted by the workflow), kept in
    the metadata. Cuts: log10_mass_min_msun <= log10 M200c < log10_mass_max_msun, at least
    ``min_gas_particles`` gas particles in R200c, Y200c > 0.
    """
    from ..io.params import read_simulation_params

    if not paths:
        raise DataError("assemble: no halo tables given")
    set_params: dict[tuple[str, str, str], tuple] = {}
    for key, f in (params_files or {}).items():
        parts = key.split("/")
        where = (parts[0], parts[1], parts[2]) if len(parts) == 3 else (parts[0], "", "")
        set_params[where] = (f, read_simulation_params(f))
    if omega_b is None:
        omega_b = section_defaults("data")["omega_b"]
    tables = [_one(Path(p), set_params, omega_b) for p in paths]
    for t in tables:
        t.meta = {}
    # a number only some tables carry (a parameter of one set's file) is NaN in the others,
    # not a masked column
    floats = {c for t in tables for c in t.colnames if t[c].dtype.kind == "f"}
    for t in tables:
        for name in sorted(floats - set(t.colnames)):
            t[name] = np.full(len(t), np.nan)
    table = vstack(tables, metadata_conflicts="silent")
    table, dropped = _sample_rows(table, samples, min_halos)
    _refuse_duplicates(table)
    from_nprofs = _halo_counts_from_nprofs(table)
    if not _is_catalog_rows(table):
        table = add_derived_columns(table)
    n_before = {s: int(np.sum(table["sample"] == s)) for s in dict.fromkeys(table["sample"])}
    cuts = _cuts(table, selection)
    keep = np.logical_and.reduce(list(cuts.values())) if cuts else np.ones(len(table), dtype=bool)
    removed = _log_cuts(table, cuts)
    table = table[keep]
    n_after = {s: int(np.sum(table["sample"] == s)) for s in n_before}
    empty = [s for s, k in n_after.items() if k == 0]
    if empty:
        raise DataError(
            f"selection leaves no halo in sample(s) {empty} (before cuts: "
            f"{ {s: n_before[s] for s in empty} }; removed per cut: "
            f"{ {s: removed[s] for s in empty} }); relax selection.log10_mass_min_msun "
            f"({selection['log10_mass_min_msun']}), selection.log10_mass_max_msun "
            f"({selection['log10_mass_max_msun']}) or selection.min_gas_particles "
            f"({selection['min_gas_particles']})"
        )
    table.meta = {
        "halos_before_cuts": n_before,
        "halos_after_cuts": n_after,
        "halos_removed_per_cut": removed,
        "stacks_dropped_few_halos": dropped,
        "stacks_halo_count_from_nprofs": from_nprofs,
        "inputs_missing": dict(inputs_missing or {}),
        "selection": dict(selection),
        "provenance": provenance("assemble", dict(selection)),
    }
    log.info("assembled %d haloes: %s", len(table), {str(k): v for k, v in n_after.items()})
    return table


def assemble_job(paths: Sequence[str | Path], options: dict,
                 params_files: dict[str, str | Path] | None = None) -> Table:
    """:func:`assemble_halos` with the assemble rule's options (its ``--options`` JSON):
    ``selection``, ``samples`` (simulation lists as ranges) in ``sample_order``, ``min_halos``,
    ``omega_b`` and ``inputs_missing``; options without ``selection`` are the selection alone
    (one sample per suite)."""
    from ..samples import expand_simulations

    if "selection" not in options:
        options = {"selection": options}
    samples = None
    if "samples" in options:
        expanded = {name: {**s, "sims": expand_simulations(s["sims"])}
                    for name, s in options["samples"].items()}
        samples = {name: expanded[name] for name in options.get("sample_order", expanded)}
    return assemble_halos(paths, options["selection"], params_files, samples,
                          options.get("min_halos", section_defaults("stacks")["min_halos"]),
                          options.get("omega_b"), options.get("inputs_missing"))
