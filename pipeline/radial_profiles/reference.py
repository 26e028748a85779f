"""The real CAMELS stacks (emu format) read into the profile stage's columns, so that the
study's measured profiles and the real ones compare row by row (report, calibration bench)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table, vstack

from ..io.camels_stacks import MASS_BINS, profile_path, read_profile_stack
from .measure import QUANTITIES, STATS, UNITS

__all__ = ["reference_profile_table"]


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
