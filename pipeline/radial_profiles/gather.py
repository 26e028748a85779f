"""Gather: the profile stage's per-snapshot tables joined into one table of the study. Each
snapshot's profiles sit in its ingest file (key :data:`~pipeline.io.tables.PROFILES_KEY`), beside
its halo table; the ``assemble`` job, which reads those files for the halo table, writes this one
too (``assemble --profiles-out``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table, vstack

from ..errors import DataError
from ..io.tables import PROFILES_KEY, read_table

__all__ = ["gather_profile_tables"]


def gather_profile_tables(paths: list[str | Path]) -> Table:
    """One table of every (suite, sim, snapshot) profile table (the ingest files ``paths``, each
    with its profiles under the key ``radial_profiles``), with those three and the redshift as
    columns; tables without rows (no halo in any bin) are skipped."""
    if not paths:
        raise DataError("gathering radial profiles: no ingest files given")
    parts = []
    for path in paths:
        t = read_table(path, required=["mass_bin", "r", "density_mean", "pressure_mean"],
                       key=PROFILES_KEY)
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
