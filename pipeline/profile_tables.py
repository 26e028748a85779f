"""Tables of stacked profiles: the profile stage's per-snapshot tables joined into one, and the
real CAMELS stacks read into the same columns (for comparing the two row by row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table, vstack

from .errors import DataError
from .io.profiles import MASS_BINS, profile_path, read_profile_stack
from .io.tables import read_table
from .radial_profiles import QUANTITIES, STATS, UNITS

__all__ = ["gather_profile_tables", "reference_profile_table"]


def gather_profile_tables(paths: list[str | Path]) -> Table:
    """One table of every (suite, sim, snapshot) profile table, with those three and the
    redshift as columns; tables without rows (no halo in any bin) are skipped."""
    if not paths:
        raise DataError("gather-profiles: no profile tables given")
    parts = []
    for path in paths:
        t = read_table(path, required=["mass_bin", "r", "density_mean", "pressure_mean"])
        if len(t) == 0:
            continue
        for key in ("suite", "sim", "snapshot", "redshift"):
            if key not in t.meta:
                raise DataError(f"profile table {path}: metadata lacks {key!r}")
        t.add_column(np.full(len(t), str(t.meta["suite"])), name="suite", index=0)
        t.add_column(np.full(len(t), str(t.meta["sim"])), name="sim", index=1)
        t.add_column(np.full(len(t), int(t.meta["snapshot"])), name="snapshot", index=2)
        t.add_column(np.full(len(t), float(t.meta["redshift"])), name="redshift", index=3)
        provenance = t.meta.get("provenance")
        t.meta.clear()
        if provenance is not None:
            t.meta["provenance"] = provenance
        parts.append(t)
    if not parts:
        raise DataError(f"none of the {len(paths)} profile tables has a stacked profile")
    out = vstack(parts, metadata_conflicts="silent")
    out.meta["n_tables"] = len(paths)
    return out


def reference_profile_table(
    root: str | Path, suite: str, sim: str, snapshot: int, redshift: float,
    mass_bins=MASS_BINS,
) -> Table:
    """The real CAMELS stacks of one (suite, sim, snapshot) in the profile stage's columns."""
    rows = []
    for mass_bin in mass_bins:
        stack = read_profile_stack(profile_path(root, suite, sim, snapshot, mass_bin))
        t = Table()
        n = len(stack.radius)
        t["suite"] = np.full(n, suite)
        t["sim"] = np.full(n, sim)
        t["snapshot"] = np.full(n, int(snapshot))
        t["redshift"] = np.full(n, float(redshift))
        t["mass_bin"] = np.full(n, mass_bin)
        t["n_halos"] = np.full(n, stack.n_halos)
        t["mean_m200c"] = np.full(n, stack.mean_m200c.to_value(u.Msun)) * u.Msun
        t["r"] = stack.radius.to(u.Mpc)
        for q in QUANTITIES:
            for s in STATS:
                unit = u.dimensionless_unscaled if s == "std_log10" else UNITS[q]
                t[f"{q}_{s}"] = stack.columns[(q, s)].to(unit)
        rows.append(t)
    return vstack(rows)
