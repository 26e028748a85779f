"""The per-halo columns the pipeline produces: name, unit and definition.

One registry feeds the ingest and assemble stages, the config validation of feature names and the
column table in the docs, so that the three cannot disagree: the particle and derived columns and
the simulation parameters here, the rows of input kind ``catalog`` in :mod:`.catalog`, the
environment columns in :mod:`.environment`. A shared module: it imports no stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from astropy.table import Table

from ..io.camels_facts import CAMELS_PARAMETERS, FEEDBACK_PARAMETERS

__all__ = ["Column", "Symbol", "refuse_unregistered", "DERIVED_BY_ASSEMBLE", "HALO_COLUMNS",
           "DERIVED_COLUMNS",
           "HI_COLUMNS", "PARAMETER_COLUMNS",
           "LOG_UNIFORM_PARAMETERS",
           "PER_ROW_COLUMNS",
           "COSMOLOGY_COLUMNS",
           "COMPUTED_BY", "computed_from", "is_truth", "leaked_inputs", "column_table_markdown",
           "catalog_table_markdown"]


@dataclass(frozen=True)
class Symbol:
    """How a column is typeset: ``latex`` for the figures (matplotlib mathtext), ``typst`` for
    the report's math."""

    latex: str
    typst: str


@dataclass(frozen=True)
class Column:
    """One column: ``name``, astropy ``unit`` string ("" dimensionless), ``definition``, the
    registry columns whose values it is computed from (``inputs``: arithmetic inputs, not the
    apertures they are measured in; what :func:`computed_from` follows), and ``truth``: a
    halo-finder or truth quantity (a mass or radius at an overdensity, Vmax, a dark-matter or
    all-particle property) that a simulation knows and an observer does not measure. A column
    computed from a truth quantity is one too (:func:`is_truth`). ``symbol``: how figures and
    the report typeset it (none: its name, upright). ``compute``: for a derived column, the
    function that makes it from a halo table holding its ``inputs`` (``assemble`` calls it, in
    the registry's order)."""

    name: str
    unit: str  # astropy unit string, "" for dimensionless
    definition: str
    inputs: tuple[str, ...] = ()
    truth: bool = False
    symbol: Symbol | None = None
    compute: Callable[[Table], np.ndarray] | None = field(default=None, compare=False, repr=False)


# --- how assemble computes the derived columns (each from a halo table with its inputs) --------

def _ez(t: Table) -> np.ndarray:
    return np.asarray(t["Ez"], dtype=float)


def _log10_of(name: str, unit: str) -> Callable[[Table], np.ndarray]:
    """log10 of column ``name`` in ``unit``."""
    return lambda t: np.log10(t[name].quantity.to_value(unit))


def _log10_self_similar(name: str, unit: str) -> Callable[[Table], np.ndarray]:
    """log10 of column ``name`` in ``unit`` times E(z)^(-2/3)."""
    return lambda t: np.log10(t[name].quantity.to_value(unit) * _ez(t) ** (-2 / 3))


def _ratio(numerator: str, denominator: str) -> Callable[[Table], np.ndarray]:
    return lambda t: np.asarray(t[numerator] / t[denominator], dtype=float)


def _minus_log10_fb(name: str) -> Callable[[Table], np.ndarray]:
    """Column ``name`` (a log10) minus log10 f_b: per unit cosmic baryon fraction."""
    return lambda t: t[name] - np.log10(np.asarray(t["f_b"], dtype=float))


def _gas_fraction_over_fb(t: Table) -> np.ndarray:
    f_gas = np.asarray(t["Mgas200c"] / t["M200c"], dtype=float)
    return f_gas / np.asarray(t["f_b"], dtype=float)


#: Written by ``ingest``: one row per halo of one snapshot. Masses and radii physical, no h.
HALO_COLUMNS: tuple[Column, ...] = (
    Column("group_index", "", "index of the FoF group in the Subfind catalog"),
    Column("M200c", "solMass", "mass inside R200c (catalog Group_M_Crit200)", truth=True,
           symbol=Symbol("M_{200c}", 'M_(200c)')),
    Column("R200c", "Mpc", "radius enclosing 200 rho_c(z) (catalog Group_R_Crit200), physical; "
           "M200c by definition (M200c = 200 rho_c(z) 4/3 pi R200c^3)", inputs=("M200c",), truth=True),
    Column("M500c", "solMass", "mass inside R500c (catalog Group_M_Crit500)", truth=True),
    Column("R500c", "Mpc", "radius enclosing 500 rho_c(z) (catalog Group_R_Crit500), physical; "
           "M500c by definition", inputs=("M500c",), truth=True),
    Column("Y200c", "Mpc2", "integrated Compton-y of gas in the sphere R200c, sigma_T/(m_e c^2) "
           "sum N_e k_B T; star-forming gas (SFR > 0) left out with star_forming_gas: exclude "
           "(default), kept with include; input kind stacks: from the stacks' mean pressure, "
           "which includes it",
           symbol=Symbol("Y_{200c}", 'Y_(200c)')),
    Column("Y500c", "Mpc2", "as Y200c, sphere R500c (same star-forming-gas rule)"),
    Column("Mgas200c", "solMass", "gas mass in the sphere R200c (all gas, star-forming included)"),
    Column("Mgas500c", "solMass", "gas mass in the sphere R500c (all gas)"),
    Column("Mgas_half200c", "solMass", "gas mass in the sphere 0.5 R200c (all gas)"),
    Column("Mstar200c", "solMass", "stellar mass in the sphere R200c: PartType4 particles with "
           "GFM_StellarFormationTime > 0 where the snapshot has that field (IllustrisTNG keeps "
           "wind-phase cells in PartType4 with times <= 0; they are not stars), else every "
           "PartType4 particle; NaN if the snapshot has no star particles"),
    Column("Mdm200c", "solMass", "dark-matter mass in the sphere R200c", truth=True),
    Column("T_mw200c", "K", "gas-mass-weighted temperature in R200c; star-forming gas left out "
           "or kept as for Y200c",
           symbol=Symbol(r"T_{\rm mw}", 'T_"mw"')),
    Column("Z_mw200c", "", "gas-mass-weighted metallicity (mass fraction) in R200c, all gas; NaN "
           "if the snapshot has no metallicity field",
           symbol=Symbol(r"Z_{\rm mw}", 'Z_"mw"')),
    Column("c_gas", "", "gas concentration Mgas(<0.5 R200c) / Mgas(<R200c) (Wadekar+23)",
           inputs=("Mgas_half200c", "Mgas200c"),
           symbol=Symbol(r"c_{\rm gas}", 'c_"gas"')),
    Column("f_gas200c", "", "gas fraction Mgas200c / M200c",
           inputs=("Mgas200c", "M200c"),
           symbol=Symbol(r"f_{\rm gas}", 'f_"gas"')),
    Column("Vmax", "km / s", "maximum circular velocity of the central subhalo (SubhaloVmax)", truth=True),
    Column("c_NFW", "", "NFW concentration from Vmax / V200c, V200c = sqrt(G M200c / R200c); "
           "NaN where Vmax/V200c is below the NFW range",
           inputs=("Vmax", "M200c", "R200c"),
           symbol=Symbol(r"c_{\rm NFW}", 'c_"NFW"')),
    Column("N_gas200c", "", "number of gas particles in R200c (resolution indicator)"),
)

#: Added by ``assemble`` (E(z) is H(z)/H0 of the snapshot; logs are base 10).
DERIVED_COLUMNS: tuple[Column, ...] = (
    Column("Ez", "", "E(z) = H(z) / H0",
           inputs=("redshift", "Omega_m")),
    Column("log10_M200c", "", "log10(M200c / Msun)",
           inputs=("M200c",),
           symbol=Symbol(r"\log_{10}M_{200c}", 'log_10 M_(200c)'),
           compute=_log10_of("M200c", "solMass")),
    Column("log10_M500c", "", "log10(M500c / Msun)",
           inputs=("M500c",),
           symbol=Symbol(r"\log_{10}M_{500c}", 'log_10 M_(500c)'),
           compute=_log10_of("M500c", "solMass")),
    Column("log10_Y200c_ss", "", "log10(Y200c E(z)^(-2/3) / Mpc^2): self-similarly scaled Y",
           inputs=("Y200c", "Ez"),
           symbol=Symbol(r"\log_{10}\tilde{Y}_{200c}", 'log_10 tilde(Y)_(200c)'),
           compute=_log10_self_similar("Y200c", "Mpc2")),
    Column("log10_Y500c_ss", "", "log10(Y500c E(z)^(-2/3) / Mpc^2)",
           inputs=("Y500c", "Ez"),
           symbol=Symbol(r"\log_{10}\tilde{Y}_{500c}", 'log_10 tilde(Y)_(500c)'),
           compute=_log10_self_similar("Y500c", "Mpc2")),
    Column("log10_Mgas200c", "", "log10(Mgas200c / Msun)",
           inputs=("Mgas200c",),
           symbol=Symbol(r"\log_{10}M_{\rm gas}", 'log_10 M_"gas"'),
           compute=_log10_of("Mgas200c", "solMass")),
    Column("Mstar_over_Mgas", "", "Mstar200c / Mgas200c",
           inputs=("Mstar200c", "Mgas200c"),
           symbol=Symbol(r"M_{\star}/M_{\rm gas}", r'M_* \/ M_"gas"'),
           compute=_ratio("Mstar200c", "Mgas200c")),
    Column("log10_Mstar_over_Mgas", "", "log10(Mstar200c / Mgas200c)",
           inputs=("Mstar200c", "Mgas200c"),
           symbol=Symbol(r"\log_{10}(M_{\star}/M_{\rm gas})", r'log_10(M_* \/ M_"gas")'),
           compute=lambda t: np.log10(_ratio("Mstar200c", "Mgas200c")(t))),
    Column("log10_T_mw_ss", "", "log10(T_mw200c E(z)^(-2/3) / K)",
           inputs=("T_mw200c", "Ez"),
           symbol=Symbol(r"\log_{10}\tilde{T}_{\rm mw}", 'log_10 tilde(T)_"mw"'),
           compute=_log10_self_similar("T_mw200c", "K")),
    Column("Y500c_over_Y200c", "", "Y500c / Y200c: pressure concentration",
           inputs=("Y500c", "Y200c"),
           symbol=Symbol("Y_{500c}/Y_{200c}", r'Y_(500c) \/ Y_(200c)'),
           compute=_ratio("Y500c", "Y200c")),
    Column("redshift", "", "redshift of the snapshot",
           symbol=Symbol("z", 'z')),
    Column("A_SN1", "", "supernova-wind energy per unit star formation (CAMELS, fiducial 1)",
           symbol=Symbol(r"A_{\rm SN1}", 'A_"SN1"')),
    Column("A_AGN1", "", "AGN feedback energy per accretion (kinetic mode in IllustrisTNG, "
           "momentum flux in SIMBA; fiducial 1)",
           symbol=Symbol(r"A_{\rm AGN1}", 'A_"AGN1"')),
    Column("A_SN2", "", "supernova-wind speed (fiducial 1)",
           symbol=Symbol(r"A_{\rm SN2}", 'A_"SN2"')),
    Column("A_AGN2", "", "AGN burstiness (IllustrisTNG) / jet speed (SIMBA) (fiducial 1)",
           symbol=Symbol(r"A_{\rm AGN2}", 'A_"AGN2"')),
    Column("Omega_m", "", "matter density parameter of the simulation",
           symbol=Symbol(r"\Omega_{\rm m}", 'Omega_m')),
    Column("sigma_8", "", "amplitude of matter fluctuations of the simulation",
           symbol=Symbol(r"\sigma_8", 'sigma_8')),
    Column("Omega_b", "", "baryon density parameter of the simulation: a column Omega_b of its "
           "parameter table, else the snapshot header's OmegaBaryon (stacks: stacks.omega_b), "
           "else data.omega_b",
           symbol=Symbol(r"\Omega_{\rm b}", 'Omega_b')),
    Column("f_b", "", "cosmic baryon fraction Omega_b / Omega_m",
           inputs=("Omega_b", "Omega_m"),
           symbol=Symbol(r"f_{\rm b}", 'f_"b"')),
    Column("f_gas200c_over_fb", "", "f_gas200c / f_b: the gas fraction in units of the cosmic "
           "one (1 = every baryon in R200c is gas)", inputs=("f_gas200c", "f_b"),
           compute=_gas_fraction_over_fb),
    Column("log10_Mgas200c_over_fb", "", "log10(Mgas200c / f_b / Msun): the total mass a halo "
           "of cosmic baryon fraction and no stars would have for its gas",
           inputs=("Mgas200c", "f_b"),
           compute=_minus_log10_fb("log10_Mgas200c")),
    Column("log10_Y200c_ss_over_fb", "", "log10(Y200c E(z)^(-2/3) / f_b / Mpc^2): self-similar Y "
           "per unit cosmic baryon fraction (Y ~ f_b M^(5/3) E(z)^(2/3) self-similarly)",
           inputs=("Y200c", "Ez", "f_b"),
           compute=_minus_log10_fb("log10_Y200c_ss")),
)


#: Written by ``ingest`` with ``ingest.hi.enabled`` (particle inputs; pipeline.physics.hi)
HI_COLUMNS: tuple[Column, ...] = (
    Column("MHI200c", "solMass", "neutral hydrogen mass in the sphere R200c: sum of m X_H f_HI "
           "over gas cells (f_HI = NeutralHydrogenAbundance, X_H = GFM_Metals[:,0], or 1 - Z - Y "
           "of a 2-D Metallicity, else 0.76); star-forming cells by ingest.hi.star_forming "
           "(stored, cold_phase: Springel & Hernquist 2003 cold-cloud fraction, or exclude)"),
    Column("MHI_fof", "solMass", "neutral hydrogen mass of the FoF group's own gas cells (as "
           "MHI200c, every member cell wherever it lies), for snapshots ordered by group (the "
           "cells of group g follow group g-1's, GroupLenType; checked on the positions); NaN "
           "for a snapshot written unordered (GIZMO / SIMBA)"),
    Column("log10_MHI200c", "", "log10(MHI200c / Msun)", inputs=("MHI200c",),
           symbol=Symbol(r"\log_{10}M_{\rm HI}", 'log_10 M_"HI"')),
    Column("f_HI200c", "", "MHI200c / Mgas200c: the neutral share of the halo's gas",
           inputs=("MHI200c", "Mgas200c")),
)

#: the derived columns assemble computes (the others come from the simulation's files)
DERIVED_BY_ASSEMBLE: tuple[Column, ...] = tuple(c for c in DERIVED_COLUMNS if c.compute is not None)

#: simulation parameters copied from each simulation's parameter file (or table metadata) into
#: columns by ``assemble``
PARAMETER_COLUMNS = CAMELS_PARAMETERS
#: the simulation parameters CAMELS draws log-uniformly (the feedback amplitudes; the mock too)
LOG_UNIFORM_PARAMETERS = FEEDBACK_PARAMETERS
#: cosmology columns of every row: from the simulation's files or tables (see Omega_b)
COSMOLOGY_COLUMNS = ("Omega_b", "f_b")
#: columns ``assemble`` adds to every row, whatever the input kind (with suite, sim, snapshot, ...)
PER_ROW_COLUMNS = ("redshift", "Ez", *PARAMETER_COLUMNS, *COSMOLOGY_COLUMNS)


#: the code that computes each group of columns (for the docs): the particle ingest (halo
#: columns; input kind stacks computes the same names from the stacked profiles in
#: pipeline.ingest.stacks), assemble, the environment and the catalog rows
COMPUTED_BY = {
    "halo": "pipeline.ingest.particles",
    "derived": "pipeline.ingest.assemble",
    "environment": "pipeline.ingest.environment",
    "catalog": "pipeline.ingest.catalog",
}


def refuse_unregistered(measured: Iterable[str], written: Iterable[str], where: str) -> None:
    """A value a stage measured that no registry row describes would leave its table without a
    word (the table writes the registry's columns): RuntimeError naming each such value and
    where its row goes. ``written``: the names the table writes (and those it derives from)."""
    missing = sorted(set(measured) - set(written))
    if missing:
        raise RuntimeError(
            f"{where} measured {missing} but the column registry has no row for "
            f"{'it' if len(missing) == 1 else 'them'}, so the table would drop "
            f"{'it' if len(missing) == 1 else 'them'}: add a row (name, unit, definition, inputs, "
            "symbol) in pipeline/columns/ (docs/development.md, 'Add a column')")


def is_truth(name: str, columns: tuple[Column, ...] | list[Column] | None = None) -> bool:
    """``name`` is a truth quantity or computed from one (``f_gas200c`` = Mgas200c / M200c,
    ``c_NFW`` from Vmax / V200c, ``log10_M500c``): see :class:`Column`."""
    by_name = {c.name: c for c in (columns if columns is not None
                                   else HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS)}
    return any(by_name[c].truth for c in computed_from(name, columns) if c in by_name)


def computed_from(name: str, columns: tuple[Column, ...] | list[Column] | None = None) -> set[str]:
    """Every registry column whose values enter ``name`` (itself included), following
    ``inputs`` to the end: ``log10_Y200c_ss`` -> {log10_Y200c_ss, Y200c, Ez, redshift, Omega_m}.
    ``columns``: the registry to follow (default the halo and derived columns)."""
    by_name = {c.name: c for c in (columns if columns is not None
                                   else HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS)}
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(by_name[current].inputs if current in by_name else ())
    return seen


def leaked_inputs(feature: str, y: str,
                  columns: tuple[Column, ...] | list[Column] | None = None) -> set[str]:
    """The measured columns that both ``feature`` and the predicted column ``y`` are computed
    from: non-empty means the feature carries the target itself (``f_gas200c`` = Mgas200c /
    M200c for y = ``log10_M200c`` -> {"M200c"}). The per-row columns (redshift, E(z), the
    simulation parameters) are left out: they describe the simulation, not the halo, and are
    known exactly wherever the relation is applied."""
    shared = computed_from(feature, columns) & computed_from(y, columns)
    return shared - set(PER_ROW_COLUMNS)


def _inputs_cell(col: Column) -> str:
    return ", ".join(f"`{n}`" for n in col.inputs) or "-"


def column_table_markdown() -> str:
    """Markdown table of every per-halo column (for the docs), then the optional environment
    columns (with the radii of ``ingest.environment`` in their names; shown for 1 Mpc)."""
    from .environment import EnvironmentOptions, environment_columns

    rows = ["| column | unit | definition | computed from | kind | computed by |",
            "|---|---|---|---|---|---|"]
    example = EnvironmentOptions(features=("overdensity", "neighbours", "nearest_more_massive"),
                                 radii_mpc=(1.0,))
    env = environment_columns(example)
    registry = HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS + tuple(env)
    for cols, code in ((HALO_COLUMNS, COMPUTED_BY["halo"]), (DERIVED_COLUMNS, COMPUTED_BY["derived"]),
                       (HI_COLUMNS, COMPUTED_BY["halo"]), (env, COMPUTED_BY["environment"])):
        for col in cols:
            rows.append(f"| `{col.name}` | {col.unit or '-'} | {col.definition} | "
                        f"{_inputs_cell(col)} | {_kind_cell(col, registry)} | `{code}` |")
    return "\n".join(rows)


def _kind_cell(col: Column, registry) -> str:
    if col.name in PER_ROW_COLUMNS:
        return "simulation"
    return "truth" if is_truth(col.name, registry) else "observable"


def catalog_table_markdown() -> str:
    """Markdown tables of the rows of input kind ``catalog`` (subhaloes, then groups)."""
    from .catalog import catalog_columns

    parts = []
    for rows in ("subhalos", "groups"):
        parts += [f"### catalog rows: {rows}", "",
                  f"Computed by `{COMPUTED_BY['catalog']}`."
                  + (" The galaxy counts are written per threshold of "
                     "`catalog.galaxy_log10_mstar_min_msun` (shown for 10^9 Msun)."
                     if rows == "groups" else ""), "",
                  "| column | unit | definition | computed from | kind |", "|---|---|---|---|---|"]
        registry = catalog_columns(rows, (9.0,))
        parts += [f"| `{c.name}` | {c.unit or '-'} | {c.definition} | {_inputs_cell(c)} | "
                  f"{_kind_cell(c, registry)} |" for c in registry]
        parts.append("")
    return "\n".join(parts)


_CATALOG_HEADER = """

## Input kind catalog

Rows read from Subfind/FoF group catalogs alone (`pipeline/ingest/catalog.py`): code units
converted with the catalog's h and scale factor (masses 1e10 Msun/h -> Msun, lengths ckpc/h ->
physical kpc, or Mpc for R200c/R500c). A column whose field the catalog lacks is left out, unless
the study uses it (then the error names file and field).

"""

_DOC_HEADER = """# Per-halo columns

Written by `ingest` (one table per snapshot, `results/<study>/halos/<suite>/<sim>_<snap>.h5`, or
per suite for input kind `stacks`, `.../halos/<suite>/stacks.h5`) and `assemble`
(`results/<study>/halos.h5`, which adds the derived columns and `suite`, `sim`, `snapshot`).
Masses and radii are physical, without h. The environment columns (last rows) are written only
when `ingest.environment.features` asks for them, one per radius of `ingest.environment.radii_mpc`
(`overdensity_1mpc` for 1 Mpc, `overdensity_2p5mpc` for 2.5 Mpc); they are measured from the
group catalog's haloes with M200c above `ingest.environment.tracer_log10_mass_min_msun`
(`pipeline/ingest/environment.py`).
Besides the six standard simulation parameters below, every other parameter a study's simulation
table carries (the `#Name` header of a CAMELS parameter file, e.g. the 28-parameter files'
`WindEnergyIn1e51erg`, or a column of `simulations.csv` for input kind `stacks`; not `seed`,
`varied`) becomes a column of its own name at assemble, NaN for sets whose table lacks it, and can
be a feature.
"Computed from" lists the columns whose values enter a column (arithmetic inputs; the apertures
R200c, R500c that the sums are measured in are not listed). "Kind" says what a column is: an
**observable** (what a survey could measure, or a simulation's gas and stars), a **truth**
quantity (a halo-finder or all-particle quantity: masses and radii at an overdensity, Vmax,
c_NFW, or a column computed from one), or a property of the **simulation**. A truth quantity is
refused as the x or a feature of a target that is one too (the true M500c predicts M200c almost
exactly), unless the target sets `allow_truth_features: true`. Generated from `pipeline/columns/` by
`python -m pipeline.columns > docs/columns.md` (a test keeps this file in sync).

"""
