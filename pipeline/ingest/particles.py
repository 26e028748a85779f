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

from ..columns import HALO_COLUMNS
from ..columns.environment import EnvironmentOptions, environment_columns
from ..defaults import schema_defaults
from ..errors import ConfigError, DataError, InputFileError
from ..io.gadget import GroupCatalog, Snapshot
from ..io.prefetch import prefetch
from ..particles.apertures import HaloApertures
from ..particles.gas_kernels import gas_sums
from ..particles.shells import ProfileOptions, ProfilePlan
from ..physics.gas import include_star_forming
from ..physics.nfw import G_MPC_KM2_S2_MSUN, concentration_from_vmax_ratio
from ..provenance import provenance
from .environment import measure_environment

__all__ = ["IngestOptions", "measure_halos", "measure_snapshot", "check_catalog_masses"]

log = logging.getLogger(__name__)

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
    """

    log10_mass_min_msun: float
    star_forming_gas: str
    chunk_particles: int
    threads: int
    mass_check_factor: float
    mass_check_min_fraction: float
    environment: EnvironmentOptions

    def __post_init__(self):
        if isinstance(self.environment, dict):
            object.__setattr__(self, "environment", EnvironmentOptions(**self.environment))
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


def _particle_pass(snap: Snapshot, haloes: _Haloes, options: IngestOptions,
                   plan: ProfilePlan | None) -> tuple[ParticleSums, str | None, str | None]:
    """One read of the gas (halo sums and, with ``plan``, the profiles' shell sums), the dark
    matter and PartType4; returns the sums, the metallicity field and the stellar formation-time
    field used (None where the snapshot has none)."""
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
    if hdr.num_part_total[0] == 0:
        raise DataError(f"snapshot {snap.files[0]} has no gas particles (PartType0): Y undefined")
    for chunk in prefetch(snap.iter_fields(0, gas_fields, options.chunk_particles,
                                           require_finite=tuple(gas_fields))):
        metal = chunk[z_field] if z_field else None
        if metal is not None and metal.ndim == 2:
            metal = metal[:, 0]  # SIMBA-style: total metal mass fraction, then species
        sums.add(gas_sums(gas_spheres, chunk["Coordinates"], chunk["Masses"],
                          chunk["InternalEnergy"], chunk["ElectronAbundance"],
                          chunk["StarFormationRate"], metal, hdr.mass_to_msun,
                          include_star_forming(options.star_forming_gas), options.threads))
        if plan is not None:
            plan.sums.add_snapshot_chunk(chunk, hdr, z_field, plan.options.star_forming_gas)
    # dark matter carries only its mass: one pass over every particle, no selection
    for chunk in prefetch(snap.iter_fields(1, ["Coordinates", "Masses"], options.chunk_particles,
                                           require_finite=("Coordinates", "Masses"))):
        sums.add(r200_spheres.sums(chunk["Coordinates"], {"mdm": chunk["Masses"] * hdr.mass_to_msun},
                                   options.threads))
    # PartType4 of IllustrisTNG also holds wind-phase cells (GFM_StellarFormationTime <= 0):
    # stars are the particles with a positive formation time where the field exists
    formation_field = "GFM_StellarFormationTime" if snap.has_field(4, "GFM_StellarFormationTime") else None
    star_fields = ["Coordinates", "Masses"] + ([formation_field] if formation_field else [])
    for chunk in prefetch(snap.iter_fields(4, star_fields, options.chunk_particles,
                                           require_finite=tuple(star_fields))):
        m = chunk["Masses"] * hdr.mass_to_msun
        weights = {"mpt4": m}
        weights["mstar"] = m * (chunk[formation_field] > 0) if formation_field else m
        sums.add(r200_spheres.sums(chunk["Coordinates"], weights, options.threads))
    return sums, z_field, formation_field


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
    sums, z_field, formation_field = _particle_pass(snap, haloes, options, plan)
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
    table = Table()
    for col in HALO_COLUMNS + tuple(environment_columns(options.environment)):
        data = values[col.name]
        table[col.name] = data * u.Unit(col.unit) if col.unit else data
        table[col.name].description = col.definition
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
