"""Ingest: per-halo properties measured from a snapshot and its group catalog.

Apertures are spheres of R200c and R500c (from the catalog) around ``GroupPos``, filled by a
periodic neighbour search over *all* particles of each type, not only FoF members. Particles are
streamed in chunks of ``chunk_particles``, the next chunk read by a background thread while the
compiled kernels (which release the GIL) work on the current one; per-halo sums are accumulated
across chunks, so memory is bounded by two chunks plus per-halo accumulators, whatever the
snapshot size (peak RSS ~0.5 GB at the default 2e6 particles per chunk, most of it libraries).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..columns import HALO_COLUMNS, HI_COLUMNS, refuse_unregistered
from ..columns.environment import EnvironmentOptions, environment_columns
from ..defaults import SCHEMA, schema_defaults
from ..errors import ConfigError, DataError, InputFileError
from ..io.gadget import GroupCatalog, Snapshot
from ..particles.apertures import HaloApertures
from ..particles.gas_kernels import gas_sums
from ..particles.shells import ProfileOptions, ProfilePlan
from ..physics.gas import include_star_forming
from ..physics.hi import HI_STAR_FORMING_RULES, hi_mass_msun, hydrogen_fraction
from ..physics.nfw import G_MPC_KM2_S2_MSUN, concentration_from_vmax_ratio
from ..provenance import provenance
from .environment import measure_environment

__all__ = ["IngestOptions", "measure_halos", "measure_snapshot", "check_catalog_masses"]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
@schema_defaults("ingest", "hi")
class HIOptions:
    """enabled: measure MHI200c, log10_MHI200c, f_HI200c (:data:`pipeline.columns.HI_COLUMNS`).
    star_forming: the rule for star-forming cells (:data:`pipeline.physics.hi.HI_STAR_FORMING_RULES`)."""

    enabled: bool = SCHEMA
    star_forming: str = SCHEMA

    def __post_init__(self):
        if self.star_forming not in HI_STAR_FORMING_RULES:
            raise ConfigError(f"config key 'ingest.hi.star_forming': {self.star_forming!r}; valid: "
                              f"{list(HI_STAR_FORMING_RULES)}")


@dataclass(frozen=True)
@schema_defaults("ingest", star_forming_gas=("star_forming_gas",))
class IngestOptions:
    """Options of the ingest stage.

    log10_mass_min_msun: haloes with catalog M200c below 10^this [Msun, no h] are skipped.
    star_forming_gas: "exclude" or "include" (:data:`pipeline.physics.gas.STAR_FORMING_GAS_RULES`).
    chunk_particles: particles read and searched at a time (bounds memory).
    threads: CPU threads of the particle scan (sums are formed in that many blocks, so results
        agree to rounding across thread counts and are identical for the same count).
    mass_check_factor, mass_check_min_fraction: the catalog must belong to the snapshot: the
        dark-matter + gas + star-particle mass measured inside each halo's R200c must agree with
        its Group_M_Crit200 within this factor for at least this fraction of the haloes.
    environment: :class:`~pipeline.ingest.environment.EnvironmentOptions` (or its dict): the
        environment columns, from the catalog's haloes (none by default).
    hi: :class:`HIOptions` (or its dict): the neutral-hydrogen columns (off by default).
    """

    log10_mass_min_msun: float = SCHEMA
    star_forming_gas: str = SCHEMA
    chunk_particles: int = SCHEMA
    threads: int = SCHEMA
    mass_check_factor: float = SCHEMA
    mass_check_min_fraction: float = SCHEMA
    environment: EnvironmentOptions = SCHEMA
    hi: HIOptions = SCHEMA

    def __post_init__(self):
        if isinstance(self.environment, dict):
            object.__setattr__(self, "environment", EnvironmentOptions(**self.environment))
        if isinstance(self.hi, dict):
            object.__setattr__(self, "hi", HIOptions(**self.hi))
        try:
            include_star_forming(self.star_forming_gas)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def check_catalog_masses(measured_msun: np.ndarray, catalog_msun: np.ndarray,
                         options: IngestOptions, snapshot_file, catalog_file) -> dict:
    """The catalog belongs to the snapshot: the particle mass measured inside each halo's
    R200c agrees with its Group_M_Crit200 within ``options.mass_check_factor`` for at least
    ``options.mass_check_min_fraction`` of the haloes (black holes and sampling noise make
    single haloes differ by a few per cent; a catalog of another run, with the same box,
    redshift and h, puts most apertures where the haloes are not). InputFileError naming both
    files otherwise; returns the check's numbers for the table metadata."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = measured_msun / catalog_msun
    f = options.mass_check_factor
    passed = (ratio >= 1.0 / f) & (ratio <= f)
    fraction = float(np.mean(passed)) if len(ratio) else 1.0
    if fraction < options.mass_check_min_fraction:
        raise InputFileError(
            f"catalog {catalog_file} does not describe snapshot {snapshot_file}: the dark-matter "
            f"+ gas + star mass measured inside Group_R_Crit200 agrees with Group_M_Crit200 "
            f"within a factor {f:g} for only {int(passed.sum())} of {len(ratio)} haloes (median "
            f"ratio {np.nanmedian(ratio):.3g}); at least {100 * options.mass_check_min_fraction:.0f}% "
            "expected. Are they from the same simulation and snapshot?")
    return {"factor": f, "fraction_within": fraction,
            "median_measured_over_catalog": float(np.nanmedian(ratio)) if len(ratio) else 1.0}


def measure_halos(
    snapshot_path: str | Path,
    catalog_path: str | Path,
    options: IngestOptions = IngestOptions(),
    meta: dict | None = None,
) -> Table:
    """Measure per-halo properties (see :data:`pipeline.columns.HALO_COLUMNS`).

    ``meta`` (suite, sim, snapshot, simulation parameters) is copied into the table metadata.
    """
    return measure_snapshot(snapshot_path, catalog_path, options, None, meta)[0]


@dataclass
class ParticleSums:
    """Per-halo sums of one pass over a snapshot's particles, each an (n,) array: gas mass
    [Msun] in R200c, R500c and 0.5 R200c; Compton-y [Mpc^2] in R200c and R500c; the thermal gas
    mass and mass x temperature [Msun, Msun K] and the metal mass [Msun] in R200c; the gas
    particle count; dark-matter, PartType4 and stellar mass [Msun] in R200c. Filled from the
    kernels' ``"<weight>@<aperture>"`` sums, in the order the chunks come (so the totals do not
    depend on how the pass is cut into functions)."""

    n: int
    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, res: dict[str, np.ndarray]) -> None:
        for key, value in res.items():
            self.sums[key] = self.sums.get(key, 0.0) + value

    def total(self, weight: str, aperture: str = "200c") -> np.ndarray:
        """The sum of ``weight`` in ``aperture`` (zeros where no particle added any)."""
        return np.asarray(self.sums.get(f"{weight}@{aperture}", np.zeros(self.n)), dtype=float)


@dataclass(frozen=True)
class _Haloes:
    """The catalog haloes a snapshot's pass measures (code units, as in the catalog)."""

    groups: dict[str, np.ndarray]
    keep: np.ndarray  # indices of the measured groups
    m200_msun: np.ndarray  # every group's M200c
    centres: np.ndarray
    r200_code: np.ndarray
    r500_code: np.ndarray


def _select_haloes(cat: GroupCatalog, hdr, options: IngestOptions) -> _Haloes:
    """The groups above the mass cut, with finite, positive apertures (DataError naming the
    catalog otherwise)."""
    group_fields = ["GroupPos", "Group_M_Crit200", "Group_R_Crit200", "Group_M_Crit500",
                    "Group_R_Crit500"]
    groups = cat.read("Group", group_fields + ["GroupFirstSub"], require_finite=tuple(group_fields))
    m200 = groups["Group_M_Crit200"].astype(float) * hdr.mass_to_msun
    keep = np.flatnonzero(m200 >= 10**options.log10_mass_min_msun)
    if len(keep) == 0:
        raise DataError(
            f"catalog {cat.files[0]}: no halo has M200c >= 10^{options.log10_mass_min_msun} Msun "
            f"(largest: {m200.max() if len(m200) else 'none'}); lower ingest.log10_mass_min"
        )
    centres = np.mod(groups["GroupPos"][keep].astype(float), hdr.box_size_ckpc_h)
    r200_code = groups["Group_R_Crit200"][keep].astype(float)
    r500_code = groups["Group_R_Crit500"][keep].astype(float)
    bad = ~(r200_code > 0) | ~(r500_code > 0)
    if bad.any():
        raise DataError(
            f"catalog {cat.files[0]}: Group_R_Crit200/500 not positive for group(s) "
            f"{keep[bad][:5].tolist()}"
        )
    return _Haloes(groups, keep, m200, centres, r200_code, r500_code)


class _FoFHI:
    """HI of each FoF group's own gas cells, for snapshots ordered by group (Arepo/Subfind: the
    cells of group g follow those of group g - 1, GroupLenType[g, 0] of them). The order is
    checked on the data: the cells a group's range assigns must lie within 5 R200c of its centre
    (at least 95% of them); where not (a snapshot written unordered, as GIZMO's), the FoF column
    is NaN and the table's meta says why."""

    def __init__(self, cat: GroupCatalog, haloes: _Haloes, box: float):
        self.box = box
        self.groups = haloes.groups
        self.ends = None
        if cat.has_field("Group", "GroupLenType"):
            lens = cat.read("Group", ["GroupLenType"])["GroupLenType"][:, 0].astype(np.int64)
            self.ends = np.cumsum(lens)
        self.sums = np.zeros(len(haloes.m200_msun))
        self.start = 0
        self.n_checked = self.n_near = 0

    def add(self, positions: np.ndarray, mhi: np.ndarray) -> None:
        n = len(mhi)
        if self.ends is not None and self.start < self.ends[-1]:
            index = np.arange(self.start, self.start + n)
            member = index < self.ends[-1]
            group = np.searchsorted(self.ends, index[member], side="right")
            self.sums += np.bincount(group, weights=mhi[member], minlength=len(self.sums))
            d = np.asarray(positions[member], dtype=float) - self.groups["GroupPos"][group]
            d -= self.box * np.round(d / self.box)
            r = np.sqrt((d**2).sum(axis=1))
            self.n_checked += len(r)
            self.n_near += int((r <= 5.0 * self.groups["Group_R_Crit200"][group]).sum())
        self.start += n

    def values(self) -> tuple[np.ndarray | None, str]:
        """(per-group HI [Msun] or None, the reason when None)."""
        if self.ends is None:
            return None, "the catalog has no Group/GroupLenType"
        if self.n_checked and self.n_near < 0.95 * self.n_checked:
            return None, (f"the snapshot is not ordered by FoF group ({self.n_near} of "
                          f"{self.n_checked} cells within 5 R200c of their range's group)")
        return self.sums, "cells ordered by FoF group (GroupLenType), checked on positions"


def _hi_fields(snap: Snapshot, hi: HIOptions) -> list[str]:
    """The gas fields the HI columns need (none when off); InputFileError naming the snapshot
    and field when one is absent."""
    if not hi.enabled:
        return []
    needed = ["NeutralHydrogenAbundance"] + (["Density"] if hi.star_forming == "cold_phase" else [])
    for name in needed:
        if not snap.has_field(0, name):
            raise InputFileError(f"snapshot {snap.files[0]}: field 'PartType0/{name}' is missing; "
                                 f"ingest.hi (star_forming: {hi.star_forming}) needs it")
    return needed + (["GFM_Metals"] if snap.has_field(0, "GFM_Metals") else [])


def _cell_hi_mass(chunk: dict, hdr, z_field: str | None, hi: HIOptions, snapshot: str = ""
                  ) -> np.ndarray:
    """HI mass [Msun] of each gas cell of ``chunk`` (:func:`pipeline.physics.hi.hi_mass_msun`);
    InputFileError naming the snapshot, the field, the count and the range found when a neutral
    fraction lies outside [0, 1] (a fraction of 50 would raise a halo's HI mass many times over,
    a negative one make it negative)."""
    neutral = np.asarray(chunk["NeutralHydrogenAbundance"])
    outside = ~((neutral >= 0.0) & (neutral <= 1.0))  # NaN counts as outside
    if outside.any():
        bad = neutral[outside]
        finite = bad[np.isfinite(bad)]
        found = (f"{finite.min():g} to {finite.max():g}" if finite.size else "")
        found += (", " if found and finite.size < bad.size else "") + (
            f"{bad.size - finite.size} non-finite" if finite.size < bad.size else "")
        raise InputFileError(f"snapshot {snapshot}: field 'PartType0/NeutralHydrogenAbundance' has "
                             f"{int(outside.sum())} of {len(neutral)} cells (in one chunk) outside "
                             f"[0, 1] (found {found}); a neutral fraction must lie in [0, 1]")
    metal = chunk[z_field] if z_field else None
    x_h = hydrogen_fraction(len(chunk["Masses"]), chunk.get("GFM_Metals"),
                            metal if metal is not None and metal.ndim == 2 else None)
    rho = None
    if hi.star_forming == "cold_phase":  # code density -> physical Msun / kpc^3
        rho = chunk["Density"] * (hdr.mass_to_msun / (hdr.length_to_mpc * 1000.0) ** 3)
    return hi_mass_msun(chunk["Masses"] * hdr.mass_to_msun, chunk["NeutralHydrogenAbundance"],
                        x_h, chunk["StarFormationRate"] > 0, hi.star_forming,
                        chunk["InternalEnergy"], rho)


def _particle_pass(snap: Snapshot, cat: GroupCatalog, haloes: _Haloes, options: IngestOptions,
                   plan: ProfilePlan | None
                   ) -> tuple[ParticleSums, str | None, str | None, _FoFHI | None]:
    """One read of the gas (halo sums and, with ``plan``, the profiles' shell sums), the dark
    matter and PartType4; returns the sums, the metallicity field and the stellar formation-time
    field used (None where the snapshot has none), and the FoF groups' HI (with ingest.hi)."""
    hdr = snap.header
    box = hdr.box_size_ckpc_h
    gas_spheres = HaloApertures(haloes.centres, {"200c": haloes.r200_code, "500c": haloes.r500_code,
                                                 "half200c": 0.5 * haloes.r200_code}, box)
    r200_spheres = HaloApertures(haloes.centres, {"200c": haloes.r200_code}, box)
    log.info("%d haloes; search grid %d^3, %.2f%% of cells near haloes", len(haloes.keep),
             gas_spheres.n, 100 * gas_spheres.volume_fraction)
    sums = ParticleSums(len(haloes.keep))
    z_field = snap.gas_metallicity_field()
    gas_fields = ["Coordinates", "Masses", "InternalEnergy", "ElectronAbundance",
                  "StarFormationRate"] + ([z_field] if z_field else [])
    hi_fields = _hi_fields(snap, options.hi)
    gas_fields += [f for f in hi_fields if f not in gas_fields]
    fof = _FoFHI(cat, haloes, box) if hi_fields else None
    if hdr.num_part_total[0] == 0:
        raise DataError(f"snapshot {snap.files[0]} has no gas particles (PartType0): Y undefined")
    for chunk in snap.stream_fields(0, gas_fields, options.chunk_particles):
        metal = chunk[z_field] if z_field else None
        if metal is not None and metal.ndim == 2:
            metal = metal[:, 0]  # SIMBA-style: total metal mass fraction, then species
        sums.add(gas_sums(gas_spheres, chunk["Coordinates"], chunk["Masses"],
                          chunk["InternalEnergy"], chunk["ElectronAbundance"],
                          chunk["StarFormationRate"], metal, hdr.mass_to_msun,
                          include_star_forming(options.star_forming_gas), options.threads))
        if hi_fields:
            mhi = _cell_hi_mass(chunk, hdr, z_field, options.hi, str(snap.files[0]))
            sums.add(r200_spheres.sums(chunk["Coordinates"], {"mhi": mhi}, options.threads))
            if fof is not None:
                fof.add(chunk["Coordinates"], mhi)
        if plan is not None:
            plan.sums.add_snapshot_chunk(chunk, hdr, z_field, plan.options.star_forming_gas)
    # dark matter carries only its mass: one pass over every particle, no selection
    for chunk in snap.stream_fields(1, ["Coordinates", "Masses"], options.chunk_particles):
        sums.add(r200_spheres.sums(chunk["Coordinates"], {"mdm": chunk["Masses"] * hdr.mass_to_msun},
                                   options.threads))
    # PartType4 of IllustrisTNG also holds wind-phase cells (GFM_StellarFormationTime <= 0):
    # stars are the particles with a positive formation time where the field exists
    formation_field = "GFM_StellarFormationTime" if snap.has_field(4, "GFM_StellarFormationTime") else None
    star_fields = ["Coordinates", "Masses"] + ([formation_field] if formation_field else [])
    for chunk in snap.stream_fields(4, star_fields, options.chunk_particles):
        m = chunk["Masses"] * hdr.mass_to_msun
        weights = {"mpt4": m}
        weights["mstar"] = m * (chunk[formation_field] > 0) if formation_field else m
        sums.add(r200_spheres.sums(chunk["Coordinates"], weights, options.threads))
    return sums, z_field, formation_field, fof


def _halo_values(haloes: _Haloes, sums: ParticleSums, hdr, vmax_sub: np.ndarray,
                 has_metals: bool, has_stars: bool) -> dict[str, np.ndarray]:
    """The columns of :data:`pipeline.columns.HALO_COLUMNS` from the catalog and the sums."""
    n, keep, total = len(haloes.keep), haloes.keep, sums.total
    mgas200 = total("mgas")
    with np.errstate(invalid="ignore", divide="ignore"):
        c_gas = np.where(mgas200 > 0, total("mgas", "half200c") / mgas200, np.nan)
        t_mw = np.where(total("mhot") > 0, total("mhot_t") / total("mhot"), np.nan)
        z_mw = total("mz") / mgas200 if has_metals else np.full(n, np.nan)
    m200_sel = haloes.m200_msun[keep]
    r200_mpc = haloes.r200_code * hdr.length_to_mpc
    v200 = np.sqrt(G_MPC_KM2_S2_MSUN * m200_sel / r200_mpc)
    first_sub = haloes.groups["GroupFirstSub"][keep].astype(np.int64)
    vmax = np.where(first_sub >= 0, vmax_sub[np.clip(first_sub, 0, None)].astype(float), np.nan)
    return {
        "group_index": keep,
        "M200c": m200_sel,
        "R200c": r200_mpc,
        "M500c": haloes.groups["Group_M_Crit500"][keep].astype(float) * hdr.mass_to_msun,
        "R500c": haloes.r500_code * hdr.length_to_mpc,
        "Y200c": total("y"),
        "Y500c": total("y", "500c"),
        "Mgas200c": mgas200,
        "Mgas500c": total("mgas", "500c"),
        "Mgas_half200c": total("mgas", "half200c"),
        "Mstar200c": total("mstar") if has_stars else np.full(n, np.nan),
        "Mdm200c": total("mdm"),
        "T_mw200c": t_mw,
        "Z_mw200c": z_mw,
        "c_gas": c_gas,
        "f_gas200c": mgas200 / m200_sel,
        "Vmax": vmax,
        "c_NFW": concentration_from_vmax_ratio(vmax / v200),
        "N_gas200c": total("ngas").astype(np.int64),
    }


def _registry_table(values: dict[str, np.ndarray], columns: tuple) -> Table:
    """The halo table of ``values``: each registry column with its unit and definition; a value
    no row describes is refused (it would be dropped without a word)."""
    refuse_unregistered(values, [c.name for c in columns], "ingest (pipeline/ingest/particles.py)")
    table = Table()
    for col in columns:
        data = values[col.name]
        table[col.name] = data * u.Unit(col.unit) if col.unit else data
        table[col.name].description = col.definition
    return table


def measure_snapshot(
    snapshot_path: str | Path,
    catalog_path: str | Path,
    options: IngestOptions = IngestOptions(),
    profile_options: ProfileOptions | None = None,
    meta: dict | None = None,
    profile_meta: dict | None = None,
) -> tuple[Table, Table | None]:
    """One pass over a snapshot: the per-halo table and, with ``profile_options``, the stacked
    radial profiles of the profile stage (:mod:`pipeline.particles.shells`), filled from
    the same gas chunks (read once; the profile stage's own ``chunk_particles`` is not used).
    The profile table is identical to :func:`measure_radial_profiles`'s at equal chunk sizes.
    ``meta`` is copied into the halo table's metadata, ``profile_meta`` (default ``meta``) into
    the profile table's."""
    snap = Snapshot(snapshot_path)
    cat = GroupCatalog(catalog_path)
    cat.check_matches(snap)
    hdr = snap.header
    plan = (ProfilePlan(snap, cat, profile_options, options.threads)
            if profile_options is not None else None)
    haloes = _select_haloes(cat, hdr, options)
    vmax_sub = cat.read("Subhalo", ["SubhaloVmax"])["SubhaloVmax"]
    sums, z_field, formation_field, fof = _particle_pass(snap, cat, haloes, options, plan)
    values = _halo_values(haloes, sums, hdr, vmax_sub, z_field is not None,
                          hdr.num_part_total[4] > 0)
    mass_check = check_catalog_masses(
        values["Mgas200c"] + sums.total("mdm") + sums.total("mpt4"), values["M200c"], options,
        snap.files[0], cat.files[0])
    if options.environment.features:
        groups = haloes.groups
        values.update(measure_environment(
            groups["GroupPos"].astype(float) * hdr.length_to_mpc,
            groups["Group_M_Crit200"].astype(float) * hdr.mass_to_msun,
            groups["Group_R_Crit200"].astype(float) * hdr.length_to_mpc,
            float(hdr.box_size.to_value(u.Mpc)), haloes.keep, options.environment))
    fof_rule = "off"
    if options.hi.enabled and fof is not None:
        mhi = sums.total("mhi")
        fof_hi, fof_rule = fof.values()
        with np.errstate(divide="ignore", invalid="ignore"):
            values.update({"MHI200c": mhi,
                           "log10_MHI200c": np.where(mhi > 0, np.log10(np.where(mhi > 0, mhi, 1.0)),
                                                     np.nan),
                           "f_HI200c": mhi / values["Mgas200c"],
                           "MHI_fof": (fof_hi[haloes.keep] if fof_hi is not None
                                       else np.full(len(haloes.keep), np.nan))})
        if fof_hi is None:
            log.warning("MHI_fof is NaN: %s", fof_rule)
    table = _registry_table(values, HALO_COLUMNS + tuple(environment_columns(options.environment))
                            + (HI_COLUMNS if options.hi.enabled else ()))
    table.meta.update(meta or {})
    table.meta.update(
        {
            "redshift": hdr.redshift,
            "scale_factor": hdr.scale_factor,
            "cosmology": {"h": hdr.hubble_param, "Omega_m": hdr.omega_m,
                          "Omega_b": hdr.omega_b, "Omega_L": hdr.omega_lambda},
            "box_size_mpc": float(hdr.box_size.to_value(u.Mpc)),
            "snapshot_files": [str(f) for f in snap.files],
            "catalog_files": [str(f) for f in cat.files],
            "metallicity_field": z_field or "absent",
            "star_forming_gas": options.star_forming_gas,
            "hi_star_forming": options.hi.star_forming if options.hi.enabled else "off",
            "hi_fof": fof_rule,
            "stars_rule": ("PartType4 with GFM_StellarFormationTime > 0 (wind-phase cells left "
                           "out)" if formation_field else "every PartType4 particle (no formation "
                           "times in the snapshot)"),
            "wind_mass_in_r200c_msun": float(np.sum(sums.total("mpt4") - sums.total("mstar")))
            if formation_field else 0.0,
            "mass_check": mass_check,
            "provenance": provenance("ingest", asdict(options)),
        }
    )
    log.info("measured %d haloes from %s", len(haloes.keep), snap.files[0])
    profiles = plan.table(meta if profile_meta is None else profile_meta) if plan is not None else None
    return table, profiles
