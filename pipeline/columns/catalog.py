"""Columns of input kind ``catalog``: rows read from Subfind/FoF group catalogs alone.

Each column names the catalog field it comes from (``kind/field``, a component of a per-type or
vector field) and the physical quantity it is converted as (the conversions are the ingest's,
:mod:`pipeline.ingest.catalog`).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import Column

__all__ = ["CatalogField", "CATALOG_COLUMNS", "CATALOG_UNITS", "LOGGED_QUANTITIES", "catalog_columns",
           "galaxy_count_columns", "mstar_tag"]


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
    truth: bool = False  # a halo-finder / all-particle quantity (Column.truth)


CATALOG_UNITS = {"mass": "solMass", "length_kpc": "kpc", "length_mpc": "Mpc", "velocity": "km / s",
          "sfr": "solMass / yr", "spin": "kpc km / s", "none": ""}
#: quantities whose log10 is added as a column
LOGGED_QUANTITIES = ("mass", "length_kpc", "length_mpc", "velocity", "sfr")

_SUBHALO_FIELDS = (
    CatalogField("Mtot", "Subhalo", "SubhaloMass", None, "mass",
                 "total mass of the subhalo's bound particles, every type (SubhaloMass)", truth=True),
    CatalogField("Mgas", "Subhalo", "SubhaloMassType", 0, "mass", "bound gas mass"),
    CatalogField("Mdm", "Subhalo", "SubhaloMassType", 1, "mass", "bound dark-matter mass", truth=True),
    CatalogField("Mstar", "Subhalo", "SubhaloMassType", 4, "mass",
                 "bound stellar mass (PartType4, wind cells included where the code keeps them)"),
    CatalogField("Mbh", "Subhalo", "SubhaloBHMass", None, "mass",
                 "mass of the subhalo's black holes (SubhaloBHMass)"),
    CatalogField("Vmax", "Subhalo", "SubhaloVmax", None, "velocity",
                 "maximum circular velocity (SubhaloVmax)", truth=True),
    CatalogField("Rvmax", "Subhalo", "SubhaloVmaxRad", None, "length_kpc",
                 "radius of the maximum circular velocity, physical", truth=True),
    CatalogField("sigma_v", "Subhalo", "SubhaloVelDisp", None, "velocity",
                 "one-dimensional velocity dispersion of all bound particles (SubhaloVelDisp)", truth=True),
    CatalogField("Rhalf", "Subhalo", "SubhaloHalfmassRad", None, "length_kpc",
                 "radius holding half the bound mass, every type, physical", truth=True),
    CatalogField("Rhalf_star", "Subhalo", "SubhaloHalfmassRadType", 4, "length_kpc",
                 "radius holding half the bound stellar mass, physical"),
    CatalogField("SFR", "Subhalo", "SubhaloSFR", None, "sfr", "star formation rate of its gas"),
    CatalogField("Z_gas", "Subhalo", "SubhaloGasMetallicity", None, "none",
                 "gas metallicity (metal mass fraction)"),
    CatalogField("Z_star", "Subhalo", "SubhaloStarMetallicity", None, "none",
                 "stellar metallicity (metal mass fraction)"),
    CatalogField("spin", "Subhalo", "SubhaloSpin", "norm", "spin",
                 "magnitude of the specific angular momentum (SubhaloSpin)", truth=True),
)

_GROUP_FIELDS = (
    CatalogField("M200c", "Group", "Group_M_Crit200", None, "mass",
                 "mass inside R200c (Group_M_Crit200)", truth=True),
    CatalogField("R200c", "Group", "Group_R_Crit200", None, "length_mpc",
                 "radius enclosing 200 rho_c(z), physical", truth=True),
    CatalogField("M500c", "Group", "Group_M_Crit500", None, "mass", "mass inside R500c", truth=True),
    CatalogField("R500c", "Group", "Group_R_Crit500", None, "length_mpc",
                 "radius enclosing 500 rho_c(z), physical", truth=True),
    CatalogField("Mfof", "Group", "GroupMass", None, "mass", "total FoF mass (GroupMass)", truth=True),
    CatalogField("Mgas_fof", "Group", "GroupMassType", 0, "mass", "FoF gas mass"),
    CatalogField("Mstar_fof", "Group", "GroupMassType", 4, "mass", "FoF stellar mass"),
    CatalogField("SFR_fof", "Group", "GroupSFR", None, "sfr", "star formation rate of the FoF gas"),
    CatalogField("Z_gas_fof", "Group", "GroupGasMetallicity", None, "none", "FoF gas metallicity"),
    CatalogField("n_subhalos", "Group", "GroupNsubs", None, "none", "number of subhaloes", truth=True),
)

#: columns that say where a row sits: always present (the catalog must have their fields)
_POSITION_FIELDS = {"Subhalo": ("SubhaloPos", "SubhaloGrNr"), "Group": ("GroupPos", "GroupFirstSub")}

#: host properties joined to every subhalo row (from its group, SubhaloGrNr)
_HOST_FIELDS = (
    CatalogField("host_M200c", "Group", "Group_M_Crit200", None, "mass",
                 "M200c of the subhalo's host group", truth=True),
    CatalogField("host_R200c", "Group", "Group_R_Crit200", None, "length_mpc",
                 "R200c of the subhalo's host group, physical", truth=True),
)

CATALOG_COLUMNS: dict[str, tuple[CatalogField, ...]] = {
    "subhalos": _SUBHALO_FIELDS + _HOST_FIELDS,
    "groups": _GROUP_FIELDS,
}


def _structure_columns(rows: str) -> list[Column]:
    if rows == "subhalos":
        return [Column("subhalo_index", "", "index of the subhalo in the Subfind catalog"),
                Column("group_index", "", "index of its host FoF group (SubhaloGrNr)"),
                Column("is_central", "", "1 for the group's first (central) subhalo, else 0"),
                Column("r_host_r200c", "", "distance to the host group's centre (GroupPos) in "
                       "units of the host's R200c (periodic); 0 for centrals",
                       inputs=("host_R200c",))]
    return [Column("group_index", "", "index of the FoF group in the Subfind catalog"),
            Column("Vmax", "km / s", "maximum circular velocity of the central subhalo",
                   truth=True),
            Column("sigma_v", "km / s", "velocity dispersion of the central subhalo", truth=True)]


def mstar_tag(log10_mstar_msun: float) -> str:
    """How a stellar-mass threshold appears in a column name: 9 -> "mstar9", 8.5 -> "mstar8p5"."""
    return "mstar" + f"{float(log10_mstar_msun):g}".replace(".", "p")


def galaxy_count_columns(thresholds_log10_msun) -> list[Column]:
    """Galaxy counts of group rows, per stellar-mass threshold [log10 Msun]: all, central,
    satellites, and log10(1 + N) (defined for empty groups: the transform of a count target)."""
    cols = []
    for t in thresholds_log10_msun:
        tag, where = mstar_tag(t), f"with stellar mass (SubhaloMassType[4]) >= 10^{float(t):g} Msun"
        cols += [
            Column(f"N_gal_{tag}", "", f"number of the group's subhaloes {where}"),
            Column(f"N_cen_{tag}", "", f"1 if the group's central subhalo (GroupFirstSub) is a "
                   f"galaxy {where}, else 0"),
            Column(f"N_sat_{tag}", "", f"number of the group's satellite subhaloes {where} "
                   f"(N_gal - N_cen)", inputs=(f"N_gal_{tag}", f"N_cen_{tag}")),
            Column(f"log10_1p_N_gal_{tag}", "", f"log10(1 + N_gal_{tag})",
                   inputs=(f"N_gal_{tag}",)),
            Column(f"log10_1p_N_sat_{tag}", "", f"log10(1 + N_sat_{tag})",
                   inputs=(f"N_sat_{tag}",)),
        ]
    return cols


def catalog_columns(rows: str, galaxy_thresholds_log10_msun=()) -> list[Column]:
    """Every column :func:`catalog_rows` can write for ``rows``, in table order (for the docs
    and the config's feature names); group rows with the galaxy counts of
    ``galaxy_thresholds_log10_msun``."""
    cols = _structure_columns(rows)
    cols += [Column(f.name, CATALOG_UNITS[f.quantity], f.definition, truth=f.truth)
             for f in CATALOG_COLUMNS[rows]]
    logged = [f for f in CATALOG_COLUMNS[rows] if f.quantity in LOGGED_QUANTITIES]
    if rows == "groups":
        logged = logged + [CatalogField("Vmax", "", "", None, "velocity", ""),
                           CatalogField("sigma_v", "", "", None, "velocity", "")]
    cols += [Column(f"log10_{f.name}", "", f"log10 of {f.name} in {CATALOG_UNITS[f.quantity]}",
                    inputs=(f.name,)) for f in logged]
    if rows == "subhalos":
        cols += [Column("M_virial", "solMass", "virial mass estimator sigma_v^2 Rhalf / G from "
                        "the catalog's sigma_v and Rhalf (all bound particles: halo-finder "
                        "quantities, as the estimator's stellar analogue would be observed)",
                        inputs=("sigma_v", "Rhalf")),
                 Column("log10_M_virial", "", "log10 of M_virial in Msun", inputs=("M_virial",)),
                 Column("Mstar_over_M_virial", "", "Mstar / M_virial: the stellar fraction "
                        "measured without the total mass", inputs=("Mstar", "M_virial"))]
    else:
        cols += [Column("Vmax_over_V200c", "", "Vmax of the central subhalo over V200c = sqrt(G "
                        "M200c / R200c): the NFW concentration's proxy (rises with c)",
                        inputs=("Vmax", "M200c", "R200c"))]
        cols += galaxy_count_columns(galaxy_thresholds_log10_msun)
    return cols
