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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..columns import HALO_COLUMNS
from ..errors import DataError
from ..io.gadget import GroupCatalog, Snapshot
from ..io.prefetch import prefetch
from ..physics.nfw import G_MPC_KM2_S2_MSUN, concentration_from_vmax_ratio
from ..provenance import provenance
from .apertures import HaloApertures
from .gas_kernels import gas_sums

__all__ = ["IngestOptions", "measure_halos"]

log = logging.getLogger(__name__)

_METALLICITY_FIELDS = ("GFM_Metallicity", "Metallicity")


@dataclass(frozen=True)
class IngestOptions:
    """Options of the ingest stage.

    log10_mass_min_msun: haloes with catalog M200c below 10^this [Msun, no h] are skipped.
    star_forming_gas_in_y: include gas with StarFormationRate > 0 in Y (default: excluded, its
        effective-EOS temperature is not physical).
    chunk_particles: particles read and searched at a time (bounds memory).
    threads: CPU threads of the particle scan (sums are formed in that many blocks, so results
        agree to rounding across thread counts and are identical for the same count).
    """

    log10_mass_min_msun: float = 11.5
    star_forming_gas_in_y: bool = False
    chunk_particles: int = 2_000_000
    threads: int = 1


def _find_metallicity(snapshot: Snapshot) -> str | None:
    for name in _METALLICITY_FIELDS:
        if snapshot.has_field(0, name):
            return name
    return None


def measure_halos(
    snapshot_path: str | Path,
    catalog_path: str | Path,
    options: IngestOptions = IngestOptions(),
    meta: dict | None = None,
) -> Table:
    """Measure per-halo properties (see :data:`pipeline.columns.HALO_COLUMNS`).

    ``meta`` (suite, sim, snapshot, simulation parameters) is copied into the table metadata.
    """
    snap = Snapshot(snapshot_path)
    cat = GroupCatalog(catalog_path)
    cat.check_matches(snap)
    hdr = snap.header
    groups = cat.read(
        "Group",
        ["GroupPos", "Group_M_Crit200", "Group_R_Crit200", "Group_M_Crit500",
         "Group_R_Crit500", "GroupFirstSub"],
    )
    vmax_sub = cat.read("Subhalo", ["SubhaloVmax"])["SubhaloVmax"]

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
    box = hdr.box_size_ckpc_h
    n = len(keep)
    gas_spheres = HaloApertures(
        centres, {"200c": r200_code, "500c": r500_code, "half200c": 0.5 * r200_code}, box)
    r200_spheres = HaloApertures(centres, {"200c": r200_code}, box)
    log.info("%d haloes; search grid %d^3, %.2f%% of cells near haloes", n, gas_spheres.n,
             100 * gas_spheres.volume_fraction)
    sums: dict[str, np.ndarray] = {}

    def add(res: dict[str, np.ndarray]) -> None:
        for k, v in res.items():
            sums[k] = sums.get(k, 0.0) + v

    z_field = _find_metallicity(snap)
    gas_fields = ["Coordinates", "Masses", "InternalEnergy", "ElectronAbundance",
                  "StarFormationRate"] + ([z_field] if z_field else [])
    if hdr.num_part_total[0] == 0:
        raise DataError(f"snapshot {snap.files[0]} has no gas particles (PartType0): Y undefined")
    for chunk in prefetch(snap.iter_fields(0, gas_fields, options.chunk_particles)):
        metal = chunk[z_field] if z_field else None
        if metal is not None and metal.ndim == 2:
            metal = metal[:, 0]  # SIMBA-style: total metal mass fraction, then species
        add(gas_sums(gas_spheres, chunk["Coordinates"], chunk["Masses"], chunk["InternalEnergy"],
                     chunk["ElectronAbundance"], chunk["StarFormationRate"], metal,
                     hdr.mass_to_msun, options.star_forming_gas_in_y, options.threads))
    # dark matter and stars carry only their mass: one pass over every particle, no selection
    for ptype, key in ((1, "mdm"), (4, "mstar")):
        for chunk in prefetch(snap.iter_fields(ptype, ["Coordinates", "Masses"],
                                               options.chunk_particles)):
            masses = {key: chunk["Masses"] * hdr.mass_to_msun}
            add(r200_spheres.sums(chunk["Coordinates"], masses, options.threads))
    has_stars = hdr.num_part_total[4] > 0

    def total(key: str) -> np.ndarray:
        return np.asarray(sums.get(key, np.zeros(n)), dtype=float)

    mgas200 = total("mgas@200c")
    with np.errstate(invalid="ignore", divide="ignore"):
        c_gas = np.where(mgas200 > 0, total("mgas@half200c") / mgas200, np.nan)
        t_mw = np.where(total("mhot@200c") > 0, total("mhot_t@200c") / total("mhot@200c"), np.nan)
        z_mw = total("mz@200c") / mgas200 if z_field else np.full(n, np.nan)
    m200_sel = m200[keep]
    r200_mpc = r200_code * hdr.length_to_mpc
    v200 = np.sqrt(G_MPC_KM2_S2_MSUN * m200_sel / r200_mpc)
    first_sub = groups["GroupFirstSub"][keep].astype(np.int64)
    vmax = np.where(first_sub >= 0, vmax_sub[np.clip(first_sub, 0, None)].astype(float), np.nan)
    c_nfw = concentration_from_vmax_ratio(vmax / v200)
    mstar = total("mstar@200c") if has_stars else np.full(n, np.nan)

    values = {
        "group_index": keep,
        "M200c": m200_sel,
        "R200c": r200_mpc,
        "M500c": groups["Group_M_Crit500"][keep].astype(float) * hdr.mass_to_msun,
        "R500c": r500_code * hdr.length_to_mpc,
        "Y200c": total("y@200c"),
        "Y500c": total("y@500c"),
        "Mgas200c": mgas200,
        "Mgas500c": total("mgas@500c"),
        "Mgas_half200c": total("mgas@half200c"),
        "Mstar200c": mstar,
        "Mdm200c": total("mdm@200c"),
        "T_mw200c": t_mw,
        "Z_mw200c": z_mw,
        "c_gas": c_gas,
        "f_gas200c": mgas200 / m200_sel,
        "Vmax": vmax,
        "c_NFW": c_nfw,
        "N_gas200c": total("ngas@200c").astype(np.int64),
    }
    table = Table()
    for col in HALO_COLUMNS:
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
            "provenance": provenance("ingest", asdict(options)),
        }
    )
    log.info("measured %d haloes from %s", n, snap.files[0])
    return table
