"""Parameter coverage: which simulation parameters a held-out sample explores that training
never did.

A relation fitted where a parameter is fixed (Omega_m = 0.3 in the CAMELS 1P sets) cannot have
learnt how the target depends on it; one fitted over a range cannot be trusted beyond it. For
each held-out sample and each parameter of the simulations (redshift, cosmology, feedback), this
module compares the values of its simulations with the training values:

* ``fixed in training``: the training values span at most ``FIXED_TOLERANCE`` (relative) and
  held-out simulations lie off that value by more than ``RANGE_TOLERANCE`` of it: the dependence
  on it was never seen;
* ``outside the training range``: some held-out simulations lie beyond the training range by more
  than ``RANGE_TOLERANCE`` of its width (a Latin hypercube's extreme strata end just inside the
  nominal bounds that a 1P set samples exactly; that is no extrapolation);
* ``covered`` otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from astropy.table import Table

from ..columns import PARAMETER_COLUMNS
from .dataset import rows_of_samples

__all__ = ["ParameterCoverage", "parameter_coverage", "coverage_warnings", "COVERAGE_PARAMETERS",
           "FIXED_TOLERANCE", "RANGE_TOLERANCE"]

#: the columns compared: the snapshot's redshift, the standard parameters and Omega_b
COVERAGE_PARAMETERS = ("redshift", *PARAMETER_COLUMNS, "Omega_b")
#: a spread below this fraction of the value's magnitude counts as fixed
FIXED_TOLERANCE = 1e-6
#: held-out values within this fraction of the training range's width beyond it count as inside
RANGE_TOLERANCE = 0.02


@dataclass(frozen=True)
class ParameterCoverage:
    """One parameter of one held-out sample: training and held-out ranges [min, max] over their
    simulations, how many held-out simulations lie outside the training range, and the status
    (``covered``, ``fixed in training``, ``outside the training range``)."""

    sample: str
    parameter: str
    train_min: float
    train_max: float
    holdout_min: float
    holdout_max: float
    n_sims_outside: int
    n_sims: int
    status: str


def _per_simulation(rows: Table, column: str) -> np.ndarray:
    """One value per (sample, simulation, snapshot): parameters are constant there."""
    keys = [c for c in ("sample", "sim", "snapshot") if c in rows.colnames]
    values = np.asarray(rows[column], dtype=float)
    if not keys or not len(rows):
        return values[np.isfinite(values)]
    ids = np.unique(np.column_stack([np.asarray(rows[k]).astype(str) for k in keys]), axis=0,
                    return_index=True)[1]
    picked = values[np.sort(ids)]
    return picked[np.isfinite(picked)]


def _fixed(values: np.ndarray) -> bool:
    span = float(values.max() - values.min())
    return span <= FIXED_TOLERANCE * max(1.0, float(np.abs(values).max()))


def parameter_coverage(halos: Table, train_samples: list[str], holdout_samples: list[str],
                       parameters: tuple[str, ...] = COVERAGE_PARAMETERS) -> list[ParameterCoverage]:
    """The coverage of every parameter of ``parameters`` that ``halos`` carries (finite in both
    the training and the held-out sample) for each held-out sample."""
    train = rows_of_samples(halos, train_samples)
    out = []
    for sample in holdout_samples:
        held = rows_of_samples(halos, [sample])
        sims = (np.unique(np.asarray(held["sim"]).astype(str)) if "sim" in held.colnames
                else np.arange(len(held)))
        for name in parameters:
            if name not in halos.colnames:
                continue
            t, h = _per_simulation(train, name), _per_simulation(held, name)
            if not t.size or not h.size:
                continue
            lo, hi = float(t.min()), float(t.max())
            fixed = _fixed(t)
            # a fixed value: the same within RANGE_TOLERANCE of its magnitude (two codes'
            # snapshot 024 lie at z = 0.53726 and 0.53761)
            slack = RANGE_TOLERANCE * (max(abs(hi), 1e-12) if fixed else hi - lo)
            outside_rows = (np.asarray(held[name], dtype=float) < lo - slack) | (
                np.asarray(held[name], dtype=float) > hi + slack)
            n_out = (len(np.unique(np.asarray(held["sim"]).astype(str)[outside_rows]))
                     if "sim" in held.colnames else int(outside_rows.sum()))
            status = ("covered" if not n_out else
                      "fixed in training" if fixed else "outside the training range")
            out.append(ParameterCoverage(sample, name, lo, hi, float(h.min()), float(h.max()),
                                         int(n_out), int(len(sims)), status))
    return out


def coverage_warnings(coverage: list[dict] | list[ParameterCoverage]) -> dict[str, list[str]]:
    """Held-out sample -> one sentence per parameter that is not covered."""
    out: dict[str, list[str]] = {}
    for c in coverage:
        c = asdict(c) if isinstance(c, ParameterCoverage) else c
        if c["status"] == "covered":
            continue
        held = (f"{c['holdout_min']:.4g}" if c["holdout_min"] == c["holdout_max"]
                else f"{c['holdout_min']:.4g} to {c['holdout_max']:.4g}")
        train = (f"fixed at {c['train_min']:.4g}" if c["status"] == "fixed in training"
                 else f"{c['train_min']:.4g} to {c['train_max']:.4g}")
        out.setdefault(c["sample"], []).append(
            f"{c['parameter']} is {held} here ({c['n_sims_outside']} of {c['n_sims']} "
            f"simulations outside training) but {train} in training: no relation can have learnt "
            "that dependence")
    return out
