"""Input kind ``catalog``: rows straight from Subfind/FoF group catalogs, no particles.

Many questions (a subhalo's total mass from its observables, galaxy occupation with environment)
need only the group catalogs, a thousand times smaller than the snapshots. One row per subhalo
(``Subhalo``, with its central flag and its host group's properties) or per FoF group (``Group``,
with its central subhalo's kinematics). Every column is converted from Subfind's code units to
physical ones with the catalog's own h and scale factor (Header ``HubbleParam``, ``Redshift``):

* masses: 1e10 Msun/h -> Msun (x 1e10 / h);
* lengths: ckpc/h -> physical kpc (x a / h), except R200c/R500c/host_R200c in physical Mpc as in
  the particle ingest's table;
* velocities (Vmax, velocity dispersion): km/s, physical already in Subfind;
* star formation rates: Msun/yr; metallicities: mass fractions;
* spins: |SubhaloSpin| in kpc km/s (Subfind: (kpc/h) km/s, so x 1 / h).

A column whose catalog field is absent is left out, unless the study uses it (``columns``): then
the error names the file and the field. ``log10_<name>`` columns are added for the positive
physical quantities (masses, radii, velocities, SFR), NaN where the value is not positive.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..columns import refuse_unregistered
from ..columns.catalog import CATALOG_COLUMNS, CatalogField, catalog_columns, mstar_tag
from ..defaults import SCHEMA, schema_defaults
from ..errors import ConfigError, DataError, InputFileError
from ..io.gadget import GroupCatalog
from ..physics.nfw import G_KPC_KM2_S2_MSUN
from ..provenance import provenance

__all__ = ["CatalogOptions", "catalog_rows", "environment_of_rows"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
@schema_defaults("catalog")
class CatalogOptions:
    """rows: ``subhalos`` or ``groups``.
    log10_mass_min_msun: rows with Mtot (subhalos) or M200c (groups) below 10^this [Msun] are
        not kept.
    min_particles: rows with fewer bound particles (SubhaloLen / GroupLen) are not kept
        (resolution).
    centrals_only: subhalos: keep the central subhalo of each group only.
    galaxy_log10_mstar_min_msun: groups: galaxy counts per stellar-mass threshold [log10 Msun]."""

    rows: str = SCHEMA
    log10_mass_min_msun: float = SCHEMA
    min_particles: int = SCHEMA
    centrals_only: bool = SCHEMA
    galaxy_log10_mstar_min_msun: tuple[float, ...] = SCHEMA

    def __post_init__(self):
        object.__setattr__(self, "galaxy_log10_mstar_min_msun",
                           tuple(float(t) for t in self.galaxy_log10_mstar_min_msun))
        if self.rows not in CATALOG_COLUMNS:
            raise ConfigError(f"config key 'catalog.rows': {self.rows!r}; valid: {list(CATALOG_COLUMNS)}")


def _factor(quantity: str, h: float, a: float) -> float:
    return {"mass": 1e10 / h, "length_kpc": a / h, "length_mpc": a / h / 1000.0, "velocity": 1.0,
            "sfr": 1.0, "spin": 1.0 / h, "none": 1.0}[quantity]


def _values(raw: np.ndarray, spec: CatalogField) -> np.ndarray:
    raw = np.asarray(raw)
    if spec.component == "norm":
        return np.sqrt((raw.astype(float) ** 2).sum(axis=1))
    if spec.component is not None:
        return raw[:, int(spec.component)].astype(float)
    return raw.astype(float)


def _galaxy_counts(cat: GroupCatalog, first: np.ndarray, thresholds: tuple[float, ...],
                   to_msun: float) -> dict[str, np.ndarray]:
    """Per group and stellar-mass threshold [log10 Msun]: galaxies (subhaloes with
    SubhaloMassType[4] x ``to_msun`` at or above it), the central's flag, satellites."""
    n_groups = len(first)
    if cat.n_subhalos:
        for field in ("SubhaloMassType", "SubhaloGrNr"):
            if not cat.has_field("Subhalo", field):
                raise InputFileError(f"catalog {cat.files[0]}: field 'Subhalo/{field}' is "
                                     "missing; catalog.galaxy_log10_mstar_min_msun counts "
                                     "galaxies by it")
        subs = cat.read("Subhalo", ["SubhaloMassType", "SubhaloGrNr"],
                        require_finite=("SubhaloMassType", "SubhaloGrNr"))
        mstar = subs["SubhaloMassType"][:, 4].astype(float) * to_msun
        host = subs["SubhaloGrNr"].astype(np.int64)
    else:
        mstar, host = np.zeros(0), np.zeros(0, dtype=np.int64)
    out = {}
    for t in thresholds:
        tag = mstar_tag(t)
        galaxy = mstar >= 10**t
        n_gal = np.bincount(host[galaxy], minlength=n_groups)[:n_groups]
        has_central = first >= 0
        central = np.zeros(n_groups, dtype=np.int64)
        central[has_central] = galaxy[first[has_central]]
        out[f"N_gal_{tag}"], out[f"N_cen_{tag}"] = n_gal, central
        out[f"N_sat_{tag}"] = n_gal - central
        for which in ("gal", "sat"):
            out[f"log10_1p_N_{which}_{tag}"] = np.log10(1.0 + out[f"N_{which}_{tag}"])
    return out


def catalog_rows(catalog_path: str | Path, options: CatalogOptions = CatalogOptions(),
                 columns: list[str] | None = None, meta: dict | None = None) -> Table:
    """The rows of one (possibly chunked) Subfind catalog, in physical units.

    ``columns``: the columns the study uses; their catalog fields must exist (InputFileError
    naming file and field otherwise); every other column is read where its field exists.
    ``meta`` is copied into the table metadata (suite, sim, snapshot, parameters)."""
    cat = GroupCatalog(catalog_path)
    h, z = cat.hubble_param, cat.redshift
    if not np.isfinite(h) or not h > 0:
        raise InputFileError(f"catalog {cat.files[0]}: Header/HubbleParam missing or not positive")
    a = 1.0 / (1.0 + z)
    wanted = _wanted_columns(cat, options, columns)
    n_rows = cat.n_subhalos if options.rows == "subhalos" else cat.n_groups
    if n_rows == 0:
        count = "Nsubgroups_Total" if options.rows == "subhalos" else "Ngroups_Total"
        raise DataError(f"catalog {cat.files[0]} holds no {options.rows} (Header/{count} = 0): "
                        f"no rows for catalog.rows '{options.rows}'")
    present = [s for s in CATALOG_COLUMNS[options.rows] if cat.has_field(s.kind, s.field)]
    # every field read must be finite: a NaN mass would drop its row at the cut, a NaN
    # observable would keep the row with a NaN feature, both without a word
    group_fields = sorted({"GroupPos", "GroupFirstSub", "Group_R_Crit200", "GroupLen"}
                          | {s.field for s in present if s.kind == "Group"})
    groups = cat.read("Group", group_fields, require_finite=tuple(group_fields))
    if options.rows == "subhalos":
        values, n_part, keep = _subhalo_values(cat, groups, present, h, a, options)
    else:
        values, n_part, keep = _group_values(cat, groups, present, h, a, options, wanted)
    mass_for_cut = values.get("Mtot" if options.rows == "subhalos" else "M200c")
    if mass_for_cut is None:
        raise InputFileError(f"catalog {cat.files[0]}: no "
                             f"{'SubhaloMass' if options.rows == 'subhalos' else 'Group_M_Crit200'}"
                             " field to select rows by mass")
    with np.errstate(divide="ignore", invalid="ignore"):
        keep &= (mass_for_cut >= 10**options.log10_mass_min_msun) & (n_part >= options.min_particles)
    if not keep.any():
        raise DataError(f"catalog {cat.files[0]}: no {options.rows[:-1]} passes "
                        f"log10_mass_min_msun = {options.log10_mass_min_msun} and min_particles = "
                        f"{options.min_particles} (of {len(keep)})")
    table = _rows_table(values, keep, options)
    table.meta.update(meta or {})
    table.meta.update({
        "redshift": z, "scale_factor": a, "box_size_mpc": cat.box_size_ckpc_h * a / h / 1000.0,
        "cosmology": {"h": h}, "catalog_files": [str(f) for f in cat.files],
        "rows": options.rows, "rows_before_cuts": int(len(keep)), "rows_kept": int(keep.sum()),
        "provenance": provenance("ingest-catalog", asdict(options)),
    })
    log.info("%s: %d of %d %s kept", cat.files[0], int(keep.sum()), len(keep), options.rows)
    return table


def _wanted_columns(cat: GroupCatalog, options: CatalogOptions, columns: list[str] | None
                    ) -> set[str]:
    """The columns the study uses (with the ones the virial estimate needs): each must be a
    column of the rows, and its catalog field must exist (errors naming the file and field)."""
    known = {c.name for c in catalog_columns(options.rows, options.galaxy_log10_mstar_min_msun)}
    unknown = sorted(set(columns or ()) - known)
    if unknown:
        raise ConfigError(f"catalog rows '{options.rows}' have no column(s) {unknown}; "
                          f"valid: {sorted(known)}")
    wanted = set(columns or ())
    if {"M_virial", "log10_M_virial", "Mstar_over_M_virial"} & wanted:
        wanted |= {"sigma_v", "Rhalf"} | ({"Mstar"} if "Mstar_over_M_virial" in wanted else set())
    for spec in CATALOG_COLUMNS[options.rows]:
        asked = spec.name in wanted or f"log10_{spec.name}" in wanted
        if asked and not cat.has_field(spec.kind, spec.field):
            raise InputFileError(f"catalog {cat.files[0]}: field '{spec.kind}/{spec.field}' is "
                                 f"missing; the study uses column {spec.name!r} ({spec.definition})")
    return wanted


def _subhalo_values(cat: GroupCatalog, groups: dict, present: list, h: float, a: float,
                    options: CatalogOptions) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Subhalo rows: (column values in physical units, particle counts, rows kept so far). The
    host's position and R200c give ``r_host_r200c`` (0 for centrals); the virial estimate is
    ``M_virial = sigma_v^2 Rhalf / G``."""
    sub_fields = sorted({"SubhaloPos", "SubhaloGrNr", "SubhaloLen"}
                        | {s.field for s in present if s.kind == "Subhalo"})
    subs = cat.read("Subhalo", sub_fields, require_finite=tuple(sub_fields))
    host = subs["SubhaloGrNr"].astype(np.int64)
    if len(host) and (host.min() < 0 or host.max() >= cat.n_groups):
        raise InputFileError(f"catalog {cat.files[0]}: Subhalo/SubhaloGrNr outside 0.."
                             f"{cat.n_groups - 1}")
    index = np.arange(cat.n_subhalos)
    central = (groups["GroupFirstSub"].astype(np.int64)[host] == index) if len(host) else \
        np.zeros(0, dtype=bool)
    d = np.abs(subs["SubhaloPos"].astype(float) - groups["GroupPos"].astype(float)[host])
    d = np.minimum(d, cat.box_size_ckpc_h - d)
    r_host = np.sqrt((d**2).sum(axis=1)) / groups["Group_R_Crit200"].astype(float)[host]
    values = {"subhalo_index": index, "group_index": host, "is_central": central.astype(np.int64),
              "r_host_r200c": np.where(central, 0.0, r_host)}
    for spec in present:
        raw = subs[spec.field] if spec.kind == "Subhalo" else groups[spec.field][host]
        values[spec.name] = _values(raw, spec) * _factor(spec.quantity, h, a)
    if "sigma_v" in values and "Rhalf" in values:
        values["M_virial"] = values["sigma_v"] ** 2 * values["Rhalf"] / G_KPC_KM2_S2_MSUN
        if "Mstar" in values:
            with np.errstate(divide="ignore", invalid="ignore"):
                values["Mstar_over_M_virial"] = values["Mstar"] / values["M_virial"]
    keep = central.copy() if options.centrals_only else np.ones(len(index), dtype=bool)
    return values, subs["SubhaloLen"].astype(np.int64), keep


def _group_values(cat: GroupCatalog, groups: dict, present: list, h: float, a: float,
                  options: CatalogOptions, wanted: set[str]
                  ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Group rows: (column values in physical units, particle counts, rows kept so far). Vmax
    and sigma_v are the central subhalo's (NaN for a group without one), Vmax/V200c from them,
    and the galaxy counts above each stellar-mass threshold."""
    first = groups["GroupFirstSub"].astype(np.int64)
    values: dict[str, np.ndarray] = {"group_index": np.arange(cat.n_groups)}
    vel_fields = [f for f in ("SubhaloVmax", "SubhaloVelDisp") if cat.has_field("Subhalo", f)]
    vel = cat.read("Subhalo", vel_fields, require_finite=tuple(vel_fields)) \
        if cat.n_subhalos else {}
    for name, field in (("Vmax", "SubhaloVmax"), ("sigma_v", "SubhaloVelDisp")):
        if field in vel:  # NaN for a group without subhaloes (GroupFirstSub = -1)
            values[name] = np.where(first >= 0, vel[field][np.clip(first, 0, None)]
                                    .astype(float), np.nan)
        elif name in wanted or f"log10_{name}" in wanted:
            why = ("holds no subhaloes (Header/Nsubgroups_Total = 0)" if not cat.n_subhalos
                   else f"has no field 'Subhalo/{field}'")
            raise InputFileError(f"catalog {cat.files[0]} {why}; the study uses column "
                                 f"{name!r} (its group's central subhalo)")
    for spec in present:
        values[spec.name] = _values(groups[spec.field], spec) * _factor(spec.quantity, h, a)
    if {"Vmax", "M200c", "R200c"} <= set(values):
        with np.errstate(divide="ignore", invalid="ignore"):
            v200 = np.sqrt(G_KPC_KM2_S2_MSUN * values["M200c"] / (1000.0 * values["R200c"]))
            values["Vmax_over_V200c"] = values["Vmax"] / v200
    if options.galaxy_log10_mstar_min_msun:
        values.update(_galaxy_counts(cat, first, options.galaxy_log10_mstar_min_msun,
                                     _factor("mass", h, a)))
    return values, groups["GroupLen"].astype(np.int64), np.ones(cat.n_groups, dtype=bool)


def _rows_table(values: dict[str, np.ndarray], keep: np.ndarray, options: CatalogOptions) -> Table:
    """The kept rows of every registry column the catalog gave (log10 columns from their
    linear values: NaN where not positive), with units and definitions."""
    table = Table()
    columns = catalog_columns(options.rows, options.galaxy_log10_mstar_min_msun)
    written = {c.name for c in columns} | {c.name[6:] for c in columns if c.name.startswith("log10_")}
    refuse_unregistered(values, written, "ingest_catalog (pipeline/ingest/catalog.py)")
    for col in columns:
        name = col.name
        if name.startswith("log10_") and name[6:] in values:
            v = values[name[6:]][keep]
            with np.errstate(divide="ignore", invalid="ignore"):
                data = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
        elif name in values:
            data = values[name][keep]
        else:
            continue
        table[name] = data * u.Unit(col.unit) if col.unit else data
        table[name].description = col.definition
    return table


def environment_of_rows(table: Table, catalog_path: str | Path, options) -> Table:
    """Add the environment columns (:mod:`pipeline.ingest.environment`) of each row's group:
    the group itself for group rows, the host group for subhalo rows (its satellites' position
    within the host is ``r_host_r200c``)."""
    from ..columns.environment import environment_columns
    from .environment import measure_environment

    cat = GroupCatalog(catalog_path)
    a = 1.0 / (1.0 + cat.redshift)
    h = cat.hubble_param
    g = cat.read("Group", ["GroupPos", "Group_M_Crit200", "Group_R_Crit200"],
                 require_finite=("GroupPos", "Group_M_Crit200", "Group_R_Crit200"))
    env = measure_environment(g["GroupPos"].astype(float) * a / h / 1000.0,
                              g["Group_M_Crit200"].astype(float) * 1e10 / h,
                              g["Group_R_Crit200"].astype(float) * a / h / 1000.0,
                              cat.box_size_ckpc_h * a / h / 1000.0,
                              np.asarray(table["group_index"], dtype=np.int64), options)
    rows = table.meta.get("rows", "groups")
    for col in environment_columns(options):
        table[col.name] = env[col.name]
        table[col.name].description = col.definition + (
            " (of the host group)" if rows == "subhalos" else "")
    return table
