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

from ..columns import Column
from ..errors import ConfigError, DataError, InputFileError
from ..io.gadget import GroupCatalog
from ..physics.nfw import G_KPC_KM2_S2_MSUN
from ..provenance import provenance

__all__ = ["CatalogOptions", "CATALOG_COLUMNS", "catalog_columns", "catalog_rows", "environment_of_rows"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogField:
    """One column of the catalog rows: from ``kind/field`` (``component`` of a per-type or
    vector field; ``"norm"`` = length of a 3-vector), converted as ``quantity``."""

    name: str
    kind: str  # "Subhalo" or "Group"
    field: str
    component: int | str | None
    quantity: str  # mass | length_kpc | length_mpc | velocity | sfr | spin | none
    definition: str


_UNITS = {"mass": "solMass", "length_kpc": "kpc", "length_mpc": "Mpc", "velocity": "km / s",
          "sfr": "solMass / yr", "spin": "kpc km / s", "none": ""}
#: quantities whose log10 is added as a column
_LOGGED = ("mass", "length_kpc", "length_mpc", "velocity", "sfr")

_SUBHALO_FIELDS = (
    CatalogField("Mtot", "Subhalo", "SubhaloMass", None, "mass",
                 "total mass of the subhalo's bound particles, every type (SubhaloMass)"),
    CatalogField("Mgas", "Subhalo", "SubhaloMassType", 0, "mass", "bound gas mass"),
    CatalogField("Mdm", "Subhalo", "SubhaloMassType", 1, "mass", "bound dark-matter mass"),
    CatalogField("Mstar", "Subhalo", "SubhaloMassType", 4, "mass",
                 "bound stellar mass (PartType4, wind cells included where the code keeps them)"),
    CatalogField("Mbh", "Subhalo", "SubhaloBHMass", None, "mass",
                 "mass of the subhalo's black holes (SubhaloBHMass)"),
    CatalogField("Vmax", "Subhalo", "SubhaloVmax", None, "velocity",
                 "maximum circular velocity (SubhaloVmax)"),
    CatalogField("Rvmax", "Subhalo", "SubhaloVmaxRad", None, "length_kpc",
                 "radius of the maximum circular velocity, physical"),
    CatalogField("sigma_v", "Subhalo", "SubhaloVelDisp", None, "velocity",
                 "one-dimensional velocity dispersion of all bound particles (SubhaloVelDisp)"),
    CatalogField("Rhalf", "Subhalo", "SubhaloHalfmassRad", None, "length_kpc",
                 "radius holding half the bound mass, every type, physical"),
    CatalogField("Rhalf_star", "Subhalo", "SubhaloHalfmassRadType", 4, "length_kpc",
                 "radius holding half the bound stellar mass, physical"),
    CatalogField("SFR", "Subhalo", "SubhaloSFR", None, "sfr", "star formation rate of its gas"),
    CatalogField("Z_gas", "Subhalo", "SubhaloGasMetallicity", None, "none",
                 "gas metallicity (metal mass fraction)"),
    CatalogField("Z_star", "Subhalo", "SubhaloStarMetallicity", None, "none",
                 "stellar metallicity (metal mass fraction)"),
    CatalogField("spin", "Subhalo", "SubhaloSpin", "norm", "spin",
                 "magnitude of the specific angular momentum (SubhaloSpin)"),
)

_GROUP_FIELDS = (
    CatalogField("M200c", "Group", "Group_M_Crit200", None, "mass",
                 "mass inside R200c (Group_M_Crit200)"),
    CatalogField("R200c", "Group", "Group_R_Crit200", None, "length_mpc",
                 "radius enclosing 200 rho_c(z), physical"),
    CatalogField("M500c", "Group", "Group_M_Crit500", None, "mass", "mass inside R500c"),
    CatalogField("R500c", "Group", "Group_R_Crit500", None, "length_mpc",
                 "radius enclosing 500 rho_c(z), physical"),
    CatalogField("Mfof", "Group", "GroupMass", None, "mass", "total FoF mass (GroupMass)"),
    CatalogField("Mgas_fof", "Group", "GroupMassType", 0, "mass", "FoF gas mass"),
    CatalogField("Mstar_fof", "Group", "GroupMassType", 4, "mass", "FoF stellar mass"),
    CatalogField("SFR_fof", "Group", "GroupSFR", None, "sfr", "star formation rate of the FoF gas"),
    CatalogField("Z_gas_fof", "Group", "GroupGasMetallicity", None, "none", "FoF gas metallicity"),
    CatalogField("n_subhalos", "Group", "GroupNsubs", None, "none", "number of subhaloes"),
)

#: columns that say where a row sits: always present (the catalog must have their fields)
_POSITION_FIELDS = {"Subhalo": ("SubhaloPos", "SubhaloGrNr"), "Group": ("GroupPos", "GroupFirstSub")}

#: host properties joined to every subhalo row (from its group, SubhaloGrNr)
_HOST_FIELDS = (
    CatalogField("host_M200c", "Group", "Group_M_Crit200", None, "mass",
                 "M200c of the subhalo's host group"),
    CatalogField("host_R200c", "Group", "Group_R_Crit200", None, "length_mpc",
                 "R200c of the subhalo's host group, physical"),
)

CATALOG_COLUMNS: dict[str, tuple[CatalogField, ...]] = {
    "subhalos": _SUBHALO_FIELDS + _HOST_FIELDS,
    "groups": _GROUP_FIELDS,
}


@dataclass(frozen=True)
class CatalogOptions:
    """rows: ``subhalos`` or ``groups``.
    log10_mass_min_msun: rows with Mtot (subhalos) or M200c (groups) below 10^this [Msun] are
        not kept.
    min_particles: rows with fewer bound particles (SubhaloLen / GroupLen) are not kept
        (resolution).
    centrals_only: subhalos: keep the central subhalo of each group only."""

    rows: str = "subhalos"
    log10_mass_min_msun: float = 9.0
    min_particles: int = 50
    centrals_only: bool = False

    def __post_init__(self):
        if self.rows not in CATALOG_COLUMNS:
            raise ConfigError(f"config key 'catalog.rows': {self.rows!r}; valid: {list(CATALOG_COLUMNS)}")


def _structure_columns(rows: str) -> list[Column]:
    if rows == "subhalos":
        return [Column("subhalo_index", "", "index of the subhalo in the Subfind catalog"),
                Column("group_index", "", "index of its host FoF group (SubhaloGrNr)"),
                Column("is_central", "", "1 for the group's first (central) subhalo, else 0"),
                Column("r_host_r200c", "", "distance to the host group's centre (GroupPos) in "
                       "units of the host's R200c (periodic); 0 for centrals")]
    return [Column("group_index", "", "index of the FoF group in the Subfind catalog"),
            Column("Vmax", "km / s", "maximum circular velocity of the central subhalo"),
            Column("sigma_v", "km / s", "velocity dispersion of the central subhalo")]


def catalog_columns(rows: str) -> list[Column]:
    """Every column :func:`catalog_rows` can write for ``rows``, in table order (for the docs
    and the config's feature names)."""
    cols = _structure_columns(rows)
    cols += [Column(f.name, _UNITS[f.quantity], f.definition) for f in CATALOG_COLUMNS[rows]]
    logged = [f for f in CATALOG_COLUMNS[rows] if f.quantity in _LOGGED]
    if rows == "groups":
        logged = logged + [CatalogField("Vmax", "", "", None, "velocity", ""),
                           CatalogField("sigma_v", "", "", None, "velocity", "")]
    cols += [Column(f"log10_{f.name}", "", f"log10 of {f.name} in {_UNITS[f.quantity]}")
             for f in logged]
    if rows == "subhalos":
        cols += [Column("M_virial", "solMass", "virial mass estimator sigma_v^2 Rhalf / G from "
                        "catalog observables"),
                 Column("log10_M_virial", "", "log10 of M_virial in Msun"),
                 Column("Mstar_over_M_virial", "", "Mstar / M_virial: the stellar fraction "
                        "measured without the total mass")]
    return cols


def _factor(quantity: str, h: float, a: float) -> float:
    return {"mass": 1e10 / h, "length_kpc": a / h, "length_mpc": a / h / 1000.0, "velocity": 1.0,
            "sfr": 1.0, "spin": 1.0 / h, "none": 1.0}[quantity]


def _values(raw: np.ndarray, spec: CatalogField) -> np.ndarray:
    raw = np.asarray(raw)
    if spec.component == "norm":
        return np.sqrt((raw.astype(float) ** 2).sum(axis=1))
    if spec.component is not None:
        return raw[:, spec.component].astype(float)
    return raw.astype(float)


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
    box_mpc = cat.box_size_ckpc_h * a / h / 1000.0
    specs = CATALOG_COLUMNS[options.rows]
    known = {c.name for c in catalog_columns(options.rows)}
    unknown = sorted(set(columns or ()) - known)
    if unknown:
        raise ConfigError(f"catalog rows '{options.rows}' have no column(s) {unknown}; "
                          f"valid: {sorted(known)}")
    wanted = set(columns or ())
    if {"M_virial", "log10_M_virial", "Mstar_over_M_virial"} & wanted:
        wanted |= {"sigma_v", "Rhalf"} | ({"Mstar"} if "Mstar_over_M_virial" in wanted else set())
    for spec in specs:
        asked = spec.name in wanted or f"log10_{spec.name}" in wanted
        if asked and not cat.has_field(spec.kind, spec.field):
            raise InputFileError(f"catalog {cat.files[0]}: field '{spec.kind}/{spec.field}' is "
                                 f"missing; the study uses column {spec.name!r} ({spec.definition})")
    n_rows = cat.n_subhalos if options.rows == "subhalos" else cat.n_groups
    if n_rows == 0:
        count = "Nsubgroups_Total" if options.rows == "subhalos" else "Ngroups_Total"
        raise DataError(f"catalog {cat.files[0]} holds no {options.rows} (Header/{count} = 0): "
                        f"no rows for catalog.rows '{options.rows}'")
    present = [s for s in specs if cat.has_field(s.kind, s.field)]
    values: dict[str, np.ndarray] = {}
    # every field read must be finite: a NaN mass would drop its row at the cut, a NaN
    # observable would keep the row with a NaN feature, both without a word
    group_fields = sorted({"GroupPos", "GroupFirstSub", "Group_R_Crit200", "GroupLen"}
                          | {s.field for s in present if s.kind == "Group"})
    groups = cat.read("Group", group_fields, require_finite=tuple(group_fields))
    if options.rows == "subhalos":
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
        values.update({"subhalo_index": index, "group_index": host,
                       "is_central": central.astype(np.int64),
                       "r_host_r200c": np.where(central, 0.0, r_host)})
        n_part = subs["SubhaloLen"].astype(np.int64)
        for spec in present:
            raw = subs[spec.field] if spec.kind == "Subhalo" else groups[spec.field][host]
            values[spec.name] = _values(raw, spec) * _factor(spec.quantity, h, a)
        mass_for_cut = values.get("Mtot")
        keep = np.ones(len(index), dtype=bool)
        if options.centrals_only:
            keep &= central
    else:
        first = groups["GroupFirstSub"].astype(np.int64)
        index = np.arange(cat.n_groups)
        values["group_index"] = index
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
        n_part = groups["GroupLen"].astype(np.int64)
        for spec in present:
            values[spec.name] = _values(groups[spec.field], spec) * _factor(spec.quantity, h, a)
        mass_for_cut = values.get("M200c")
        keep = np.ones(len(index), dtype=bool)
    if options.rows == "subhalos" and "sigma_v" in values and "Rhalf" in values:
        values["M_virial"] = values["sigma_v"] ** 2 * values["Rhalf"] / G_KPC_KM2_S2_MSUN
        if "Mstar" in values:
            with np.errstate(divide="ignore", invalid="ignore"):
                values["Mstar_over_M_virial"] = values["Mstar"] / values["M_virial"]
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
    table = Table()
    for col in catalog_columns(options.rows):
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
    table.meta.update(meta or {})
    table.meta.update({
        "redshift": z, "scale_factor": a, "box_size_mpc": box_mpc,
        "cosmology": {"h": h}, "catalog_files": [str(f) for f in cat.files],
        "rows": options.rows, "rows_before_cuts": int(len(keep)), "rows_kept": int(keep.sum()),
        "provenance": provenance("ingest-catalog", asdict(options)),
    })
    log.info("%s: %d of %d %s kept", cat.files[0], int(keep.sum()), len(keep), options.rows)
    return table


def environment_of_rows(table: Table, catalog_path: str | Path, options) -> Table:
    """Add the environment columns (:mod:`pipeline.ingest.environment`) of each row's group:
    the group itself for group rows, the host group for subhalo rows (its satellites' position
    within the host is ``r_host_r200c``)."""
    from .environment import environment_columns, measure_environment

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
