"""The real CAMELS stacks (emu format) read into the profile stage's columns, so that the
study's measured profiles and the real ones compare row by row (report, calibration bench)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table, vstack

from ..io.camels_stacks import MASS_BINS, profile_path, read_profile_stack
from ..io.profile_columns import QUANTITIES, STATS, UNITS

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


def fiducial_stacks_near(root: str | Path, redshift: float) -> tuple[Table | None, str]:
    """The real CAMELS 1P fiducial stacks of every reference suite at the snapshot nearest
    ``redshift``, and a sentence saying what they are; (None, the reason) when ``root`` holds no
    stacks."""
    from ..io.camels_stacks import FIDUCIAL_SIM, REFERENCE_SUITES, is_emu_clone, stack_redshifts

    root = Path(root)
    if not (is_emu_clone(root) or (root / "snapshots.csv").exists()):
        return None, (f"No real stacks shown: the reference directory {root} is absent "
                      "(radial_profiles.reference_root: an emu_CAMELS clone).")
    redshifts = stack_redshifts(root)
    parts = []
    for suite in REFERENCE_SUITES:
        snap, z = min(((s, zz) for (su, s), zz in redshifts.items() if su == suite),
                      key=lambda item: abs(item[1] - redshift))
        parts.append(reference_profile_table(root, suite, FIDUCIAL_SIM, snap, z))
    return vstack(parts), (f"Dashed: the real CAMELS 1P fiducial stacks ({FIDUCIAL_SIM}, z = "
                           f"{float(parts[0]['redshift'][0]):.2f}) from {root}, which the mock's "
                           "gas model is calibrated against.")
