"""Selecting rows and columns of the assembled halo table for a target relation."""

from __future__ import annotations

import logging

import numpy as np
from astropy.table import Table

from ..errors import DataError
from ..study_record import Target  # the study's record of a target, used by every stage

__all__ = ["Target", "rows_of_samples", "sample_column", "design_matrix", "baseline_intercept",
           "simulation_ids", "features_with_values", "check_target_varies"]

log = logging.getLogger(__name__)


def sample_column(table: Table) -> str:
    """The column naming each row's sample: ``sample`` (assembled tables), else ``suite``."""
    return "sample" if "sample" in table.colnames else "suite"


def rows_of_samples(table: Table, samples: list[str]) -> Table:
    """The rows of ``table`` whose sample is in ``samples`` (DataError if none)."""
    column = sample_column(table)
    mask = np.isin(np.asarray(table[column]).astype(str), samples)
    if not mask.any():
        raise DataError(
            f"no halo of sample(s) {samples} in the table (it has "
            f"{sorted(set(np.asarray(table[column]).astype(str).tolist()))})")
    return table[mask]


def design_matrix(
    table: Table, features: list[str], target: Target
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (n, k) of ``features``, y = self-similar residual (intercept 0), and the row mask used.

    Rows with a non-finite feature or target are dropped (and counted in the log); if none is
    left, DataError names the columns responsible.
    """
    missing = [c for c in features + [target.x, target.y] if c not in table.colnames]
    if missing:
        raise DataError(f"halo table lacks column(s) {missing}")
    x = (np.column_stack([np.asarray(table[f], dtype=float) for f in features]) if features
         else np.empty((len(table), 0)))
    y = target.residual(table)
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
    if not ok.any():
        bad = [f for f in features if not np.isfinite(np.asarray(table[f], dtype=float)).any()]
        raise DataError(
            f"every halo has a non-finite value in the features or target; columns with no "
            f"finite value: {bad or [target.x, target.y]}"
        )
    if (~ok).any():
        log.warning("dropped %d of %d haloes with non-finite features/target", (~ok).sum(), len(ok))
    check_target_varies(np.asarray(table[target.y], dtype=float)[ok], target)
    return x[ok], y[ok], ok


#: the options that define a column, by name prefix: where to look when a target is constant
_DEFINED_BY = (
    (("N_gal_", "N_cen_", "N_sat_", "log10_1p_N_"),
     "catalog.galaxy_log10_mstar_min_msun (the stellar-mass threshold of a galaxy: above every "
     "subhalo's stellar mass, every count is 0)"),
    (("MHI", "log10_MHI", "f_HI"), "ingest.hi (the HI rule and the hydrogen fields read)"),
    (("overdensity_", "n_neighbours_", "d_more_massive"),
     "ingest.environment (tracer_log10_mass_min_msun, radii_mpc)"),
)


def check_target_varies(y: np.ndarray, target: Target) -> None:
    """DataError naming the target and the option that defines its column when ``y`` (the
    target's column over the rows a stage fits on) has (near) zero variance: there is no scatter
    to explain, and any "relation" would be fitted to nothing."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) < 2:
        return  # too few rows is another stage's error
    spread = float(np.ptp(y))  # the range, not the std: a std of values near 1e308 overflows
    if spread > 1e-10 * (1.0 + float(np.max(np.abs(y)))):
        return
    hint = next((option for prefixes, option in _DEFINED_BY if target.y.startswith(prefixes)),
                "the selection (selection.log10_mass_min_msun / log10_mass_max_msun) and the "
                "samples")
    raise DataError(f"target {target.name!r}: {target.y} takes the single value {y[0]:.6g} on all "
                    f"{len(y)} training rows (range {spread:.2g}): there is no scatter to explain. "
                    f"Check the option that defines it: {hint}")


def baseline_intercept(table: Table, target: Target) -> float:
    """Least-squares intercept b of y = slope * x + b with the slope held fixed."""
    r = target.residual(table)
    r = r[np.isfinite(r)]
    if len(r) == 0:
        raise DataError(f"no finite {target.y} / {target.x} pair to fit the baseline")
    return float(np.mean(r))


def simulation_ids(table: Table) -> np.ndarray:
    """Each row's simulation as ``suite/set/sim`` (``suite/sim`` without a set column): the
    sampling unit of cross-validation and resampling. The same name in two suites or sets is two
    simulations; the same simulation at two snapshots (or in two samples) is one."""
    missing = [c for c in ("suite", "sim") if c not in table.colnames]
    if missing:
        raise DataError(f"halo table lacks column(s) {missing} naming each halo's simulation")
    parts = [np.asarray(table["suite"]).astype(str)]
    if "set" in table.colnames:
        parts.append(np.asarray(table["set"]).astype(str))
    parts.append(np.asarray(table["sim"]).astype(str))
    out = parts[0]
    for part in parts[1:]:
        out = np.char.add(np.char.add(out, "/"), part)
    return out


def features_with_values(table: Table, features: list[str]) -> tuple[list[str], dict[str, str]]:
    """``features`` without those that have no finite value in ``table`` (which would otherwise
    drop every row), and name -> reason of the ones left out (logged as a warning)."""
    missing = [c for c in features if c not in table.colnames]
    if missing:
        raise DataError(f"halo table lacks column(s) {missing}")
    dropped = {f: "no finite value" for f in features
               if not np.isfinite(np.asarray(table[f], dtype=float)).any()}
    if dropped:
        log.warning("feature(s) %s have no finite value in the training haloes and are dropped",
                    sorted(dropped))
    if len(dropped) == len(features):
        raise DataError(f"no feature has a finite value in the training haloes: {features}")
    return [f for f in features if f not in dropped], dropped
