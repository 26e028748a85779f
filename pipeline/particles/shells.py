"""Spherical shells around haloes: the sums behind the stacked radial gas profiles.

Per halo, in spherical shells around ``GroupPos`` at the physical radii of the CAMELS emu stacks
(Moser et al. 2022; log-spaced by 0.24 dex, shells bounded at the geometric midpoints):

    density      sum m / V_shell                               [Msun/kpc^3]
    pressure     sum (gamma - 1) m u / V_shell  (= n k_B T)    [Msun/kpc/s^2]  } thermal gas:
    temperature  sum m T / sum m  (T from u and x_e)           [K]              } see below
    metallicity  sum m Z / sum m                                [mass fraction]

every gas particle counted (star-forming gas too, as a snapshot stores it). Haloes are grouped in
the mass bins of the CAMELS stacks by catalog M200c [Msun]; per bin and radius the table gives,
over the bin's haloes, the mean, the 84th-50th and 50th-16th percentiles (err_up, err_low), the
standard deviation of log10 (haloes with a positive value) and the median: the columns of the real
files, so the two can be compared row by row. Memory is bounded by one particle chunk.

A :class:`ProfilePlan` is set up from the catalog alone and filled chunk by chunk: by the ingest's
one pass over a snapshot (:func:`pipeline.ingest.particles.measure_snapshot`), or by the profile
stage reading the gas on its own (:func:`pipeline.radial_profiles.measure.measure_radial_profiles`),
with the same result.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..defaults import SCHEMA, schema_defaults
from ..errors import ConfigError, DataError
from ..io.gadget import GroupCatalog, Snapshot
from ..io.profile_columns import QUANTITIES, STATS, UNITS
from ..physics.gas import GAMMA, include_star_forming, temperature_k
from ..provenance import provenance
from .apertures import HaloApertures
from .gas_kernels import gas_shell_sums

__all__ = [
    "REFERENCE_RADII_MPC", "QUANTITIES", "STATS", "ProfileOptions", "ProfilePlan", "ShellSums",
    "shell_edges_mpc", "halo_profiles", "stack_profiles", "profile_chunk", "UNITS",
]

log = logging.getLogger(__name__)

#: radii [physical Mpc] of the CAMELS emu stacks (every file uses a contiguous run of these).
REFERENCE_RADII_MPC = 3.113241142682221e-3 * 10.0 ** (0.24 * np.arange(-3, 16))
_KM_PER_KPC = float((1 * u.kpc).to_value(u.km))


@dataclass(frozen=True)
@schema_defaults("radial_profiles", star_forming_gas=("star_forming_gas",))
class ProfileOptions:
    """max_radius_mpc: outermost shell radius [physical Mpc] (shells beyond are not measured);
    mass_bins: log10 M200c [Msun] bins, as "lo-hi" labels; min_halos: bins with fewer haloes are
    left out of the table; chunk_particles: gas particles read at a time; star_forming_gas:
    "exclude" leaves gas with StarFormationRate > 0 out of the pressure and temperature (it stays
    in density and metallicity), "include" keeps it (the study's one rule, config key
    ``star_forming_gas``; the CAMELS emu stacks include it)."""

    max_radius_mpc: float = SCHEMA
    mass_bins: tuple[str, ...] = SCHEMA
    min_halos: int = SCHEMA
    # not a study option: the pipeline's one pass reads the gas in ingest.chunk_particles; this
    # sizes the reads of the profile stage run on its own (measure_radial_profiles)
    chunk_particles: int = 2_000_000
    star_forming_gas: str = SCHEMA

    def __post_init__(self):
        try:
            include_star_forming(self.star_forming_gas)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def shell_edges_mpc(radii_mpc: np.ndarray) -> np.ndarray:
    """Shell edges around log-spaced ``radii_mpc``: geometric midpoints, extended by half a step
    at both ends."""
    r = np.asarray(radii_mpc, dtype=float)
    step = np.sqrt(r[1] / r[0])
    return np.concatenate([[r[0] / step], np.sqrt(r[1:] * r[:-1]), [r[-1] * step]])


def _parse_bin(label: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in label.split("-"))
    except ValueError:
        raise ConfigError(f"radial_profiles.mass_bins: {label!r} is not 'lo-hi' in log10 Msun") from None
    if hi <= lo:
        raise ConfigError(f"radial_profiles.mass_bins: {label!r} runs backwards")
    return lo, hi


class ShellSums:
    """Per-halo shell sums accumulated over gas chunks (memory: the sums, not the particles).

    ``add`` takes one chunk at a time (a dict with ``pos_mpc`` (n, 3) physical Mpc,
    ``mass_msun``, ``u_km2_s2``, ``temperature_k``, ``metallicity`` and, optionally, ``thermal``:
    bool, the particle enters pressure and temperature; all do if absent); ``profiles`` turns
    the sums into profiles. The ingest's one pass feeds it the chunks it reads anyway. The shells
    are found by the ingest's compiled cell-table scan (:class:`HaloApertures`, one sphere of the
    outermost edge per halo), on ``threads`` threads in blocks of particles fixed by that count
    (:func:`~pipeline.particles.apertures.shell_blocks`; results agree to rounding across
    thread counts, identical for the same count)."""

    def __init__(self, centres_mpc: np.ndarray, box_mpc: float, radii_mpc: np.ndarray,
                 threads: int = 1):
        self.edges = shell_edges_mpc(radii_mpc)
        self.box_mpc = float(box_mpc)
        self.threads = int(threads)
        self.n_halo, self.n_shell = len(centres_mpc), len(radii_mpc)
        self.centres = np.mod(np.asarray(centres_mpc, dtype=float), box_mpc)
        # m, (gamma-1) m u, m T, m Z, thermal m, count
        self.totals = np.zeros((self.n_halo, self.n_shell, 6))
        # cells of a third of the outermost radius: the profile spheres (~2.4 Mpc around every
        # halo) cover the box, so the default grid (one radius per cell) gives each particle ~10
        # candidate haloes, this one ~3 (26% less time for the shell kernel on a CAMELS
        # snapshot; the sums do not depend on the grid: each particle adds to its own (halo,
        # shell) entries in the same order)
        n_cells = int(np.clip(3.0 * self.box_mpc / self.edges[-1], 8, 48))
        self.spheres = (HaloApertures(self.centres, {"shells": np.full(self.n_halo, self.edges[-1])},
                                      self.box_mpc, n_cells) if self.n_halo else None)

    def add(self, chunk: dict) -> None:
        pos = np.asarray(chunk["pos_mpc"], dtype=float)
        if len(pos) == 0 or self.spheres is None:
            return
        m = np.asarray(chunk["mass_msun"], dtype=float)
        m_th = m * np.asarray(chunk["thermal"], dtype=float) if "thermal" in chunk else m
        weights = np.vstack([m, (GAMMA - 1.0) * m_th * np.asarray(chunk["u_km2_s2"], dtype=float),
                             m_th * np.asarray(chunk["temperature_k"], dtype=float),
                             m * np.asarray(chunk["metallicity"], dtype=float), m_th])
        self.totals += self.spheres.shell_sums(pos, weights, self.edges, self.threads)

    def add_snapshot_chunk(self, chunk: dict, hdr, z_field: str | None, star_forming_gas: str) -> None:
        """Add a gas chunk as read from the snapshot (code units; ``hdr`` its header): the
        same sums as ``add(profile_chunk(...))``, to the bit, formed inside the compiled
        kernel (:func:`pipeline.particles.gas_kernels.gas_shell_sums`) without the per-particle
        arrays of the numpy path."""
        if self.spheres is None or len(chunk["Masses"]) == 0:
            return
        metal = chunk[z_field] if z_field else None
        if metal is not None and metal.ndim == 2:
            metal = metal[:, 0]  # SIMBA-style: total metal mass fraction, then species
        self.totals += gas_shell_sums(
            self.spheres, chunk["Coordinates"], chunk["Masses"], chunk["InternalEnergy"],
            chunk["ElectronAbundance"], chunk["StarFormationRate"], metal, hdr.length_to_mpc,
            hdr.mass_to_msun, self.edges, include_star_forming(star_forming_gas), self.threads)

    def profiles(self) -> dict[str, np.ndarray]:
        """(n_halo, n_shell) arrays: ``density`` [Msun/kpc^3], ``pressure`` [Msun/kpc/s^2],
        ``temperature`` [K], ``metallicity`` (NaN in empty shells) and ``n_particles``."""
        volume_kpc3 = 4.0 / 3.0 * np.pi * np.diff(self.edges**3) * 1e9
        mass, pu, mt, mz, m_th, count = np.moveaxis(self.totals, 2, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "density": mass / volume_kpc3,
                "pressure": pu / volume_kpc3 / _KM_PER_KPC**2,
                "temperature": np.where(m_th > 0, mt / m_th, np.nan),
                "metallicity": np.where(mass > 0, mz / mass, np.nan),
                "n_particles": count,
            }


def halo_profiles(
    centres_mpc: np.ndarray, box_mpc: float, radii_mpc: np.ndarray, chunks,
) -> dict[str, np.ndarray]:
    """Shell sums of every halo from an iterable of gas chunks (see :class:`ShellSums`).

    Returns (n_halo, n_shell) arrays: ``density`` [Msun/kpc^3], ``pressure`` [Msun/kpc/s^2],
    ``temperature`` [K], ``metallicity`` (NaN in empty shells) and ``n_particles``.
    """
    sums = ShellSums(centres_mpc, box_mpc, radii_mpc)
    for chunk in chunks:
        sums.add(chunk)
    return sums.profiles()


def stack_profiles(profiles: np.ndarray) -> dict[str, np.ndarray]:
    """The five statistics of the CAMELS files over haloes (axis 0) of (n_halo, n_shell) values;
    NaN entries are left out."""
    # empty shells are expected (reported as NaN): silence numpy's all-NaN-slice warnings
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q16, q50, q84 = np.nanpercentile(profiles, [16, 50, 84], axis=0)
        positive = np.where(profiles > 0, profiles, np.nan)
        return {
            "mean": np.nanmean(profiles, axis=0),
            "err_up": q84 - q50,
            "err_low": q50 - q16,
            "std_log10": np.nanstd(np.log10(positive), axis=0),
            "median": q50,
        }


def profile_chunk(chunk: dict, hdr, z_field: str | None, star_forming_gas: str) -> dict:
    """A gas chunk as read (code units, fields of the snapshot) -> the dict :class:`ShellSums`
    takes (physical units, temperature, the thermal flag of the study's star-forming rule)."""
    metal = chunk[z_field] if z_field else np.zeros(len(chunk["Masses"]))
    if metal.ndim == 2:
        metal = metal[:, 0]
    u_gas = np.asarray(chunk["InternalEnergy"], dtype=float)
    return {
        "pos_mpc": np.asarray(chunk["Coordinates"], dtype=float) * hdr.length_to_mpc,
        "mass_msun": np.asarray(chunk["Masses"], dtype=float) * hdr.mass_to_msun,
        "u_km2_s2": u_gas,
        "temperature_k": temperature_k(u_gas, chunk["ElectronAbundance"]),
        "metallicity": metal,
        "thermal": (np.ones(len(u_gas), dtype=bool) if include_star_forming(star_forming_gas)
                    else np.asarray(chunk["StarFormationRate"]) <= 0),
    }


class ProfilePlan:
    """Which haloes of a catalog enter which mass bin, at which radii: what the profile stage
    measures, set up from the catalog alone (so that the ingest's particle pass can fill it)."""

    def __init__(self, snap: Snapshot, cat: GroupCatalog, options: ProfileOptions, threads: int = 1):
        hdr = snap.header
        groups = cat.read("Group", ["GroupPos", "Group_M_Crit200"],
                          require_finite=("GroupPos", "Group_M_Crit200"))
        self.options = options
        self.m200 = groups["Group_M_Crit200"].astype(float) * hdr.mass_to_msun
        self.radii = REFERENCE_RADII_MPC[REFERENCE_RADII_MPC <= options.max_radius_mpc]
        if len(self.radii) < 2:
            raise ConfigError(f"radial_profiles.max_radius_mpc = {options.max_radius_mpc} Mpc "
                              f"leaves fewer than 2 radii (the smallest is "
                              f"{REFERENCE_RADII_MPC[0]:.4f} Mpc)")
        bins = {label: _parse_bin(label) for label in options.mass_bins}
        with np.errstate(divide="ignore"):
            log_m = np.log10(self.m200)
        self.members = {label: np.flatnonzero((log_m >= lo) & (log_m < hi))
                        for label, (lo, hi) in bins.items()}
        self.chosen = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *self.members.values()]))
        if len(self.chosen) == 0:
            raise DataError(f"catalog {cat.files[0]}: no halo in the mass bins {list(bins)} "
                            f"(log10 M200c ranges {np.nanmin(log_m):.2f}..{np.nanmax(log_m):.2f})")
        if hdr.num_part_total[0] == 0:
            raise DataError(f"snapshot {snap.files[0]} has no gas particles (PartType0)")
        centres = groups["GroupPos"][self.chosen].astype(float) * hdr.length_to_mpc
        self.sums = ShellSums(centres, float(hdr.box_size.to_value(u.Mpc)), self.radii, threads)
        self.header = hdr
        self.snapshot_files = [str(f) for f in snap.files]

    def table(self, meta: dict | None = None) -> Table:
        """One row per (mass bin, radius): the stacked profiles of the haloes added so far."""
        per_halo = self.sums.profiles()
        radii, options = self.radii, self.options
        row_of = {int(g): i for i, g in enumerate(self.chosen)}
        columns: dict[str, list] = {"mass_bin": [], "n_halos": [], "mean_m200c": [], "r": []}
        stats: dict[tuple[str, str], list] = {(q, s): [] for q in QUANTITIES for s in STATS}
        skipped = []
        for label, idx in self.members.items():
            if len(idx) < options.min_halos:
                skipped.append(label)
                continue
            rows = [row_of[int(g)] for g in idx]
            for q in QUANTITIES:
                st = stack_profiles(per_halo[q][rows])
                for s in STATS:
                    stats[(q, s)].extend(st[s])
            columns["mass_bin"].extend([label] * len(radii))
            columns["n_halos"].extend([len(idx)] * len(radii))
            columns["mean_m200c"].extend([float(self.m200[idx].mean())] * len(radii))
            columns["r"].extend(radii)
        table = Table()
        table["mass_bin"] = np.asarray(columns["mass_bin"], dtype=str)
        table["n_halos"] = np.asarray(columns["n_halos"], dtype=np.int64)
        table["mean_m200c"] = np.asarray(columns["mean_m200c"], dtype=float) * u.Msun
        table["r"] = np.asarray(columns["r"], dtype=float) * u.Mpc
        for (q, s), values in stats.items():
            unit = u.dimensionless_unscaled if s == "std_log10" else UNITS[q]
            table[f"{q}_{s}"] = np.asarray(values, dtype=float) * unit
        table.meta.update(meta or {})
        table.meta.update({
            "redshift": self.header.redshift,
            "mass_bins_without_halos": skipped,
            "star_forming_gas": options.star_forming_gas,
            "snapshot_files": self.snapshot_files,
            "provenance": provenance("radial_profiles", asdict(options)),
        })
        log.info("%s: %d haloes in %d mass bins, %d radii", self.snapshot_files[0],
                 len(self.chosen), len(self.members) - len(skipped), len(radii))
        return table
