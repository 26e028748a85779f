"""The SR stage for one target: which features enter the search under the slope constraint, the
groups and simulation parameters of the choice, the domain the equation must be safe on; then
:func:`~pipeline.discovery.sr.search.discover`. The command line only reads and writes tables."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
from astropy.table import Table

from ...columns import PARAMETER_COLUMNS
from ...errors import ConfigError
from ..dataset import Target, design_matrix, rows_of_samples, sample_column, simulation_ids
from .domain import central_extent
from .search import SROptions, discover

__all__ = ["SLOPES", "search_features", "discover_for_target", "discover_slopes"]

SLOPES = ("fixed", "free")


def search_features(ranked: list[str], target: Target, slope: str) -> list[str]:
    """The features of the search: ``fixed`` keeps the relation's x out of the correction (it
    enters through its self-similar slope only, as in M ~ Y^(3/5)(1 - A c)); ``free`` makes x a
    candidate even where the ranking did not select it, so the two differ by exactly that
    freedom."""
    if slope not in SLOPES:
        raise ValueError(f"slope must be one of {SLOPES}, got {slope!r}")
    if slope == "fixed":
        return [f for f in ranked if f != target.x]
    return ranked if target.x in ranked else [*ranked, target.x]


def _groups(rows: Table, used: np.ndarray, options: SROptions) -> np.ndarray | None:
    """Validation groups (``sr.validation_groups``; by simulation for the choice by transfer)."""
    column = options.validation_groups
    if column is None:
        return simulation_ids(rows)[used] if options.choice_data == "transfer" else None
    if column not in rows.colnames:
        raise ConfigError(f"sr.validation_groups: the halo table has no column {column!r} "
                          f"(columns: {', '.join(rows.colnames)})")
    ids = simulation_ids(rows) if column == "sim" else np.asarray(rows[column]).astype(str)
    return ids[used]


def discover_for_target(halos: Table, target: Target, ranked: list[str], options: SROptions,
                        slope: str, train: list[str], holdout: list[str] | None = None) -> Table:
    """The Pareto table of one target on the ``train`` samples of ``halos`` under ``slope``;
    ``holdout``: samples whose observables (never their targets) widen the domain the chosen
    equation must be safe on (``sr.domain_includes_holdout``)."""
    rows = rows_of_samples(halos, train)
    features = search_features(ranked, target, slope)
    x, y, used = design_matrix(rows, features, target)
    samples = np.asarray(rows[sample_column(rows)]).astype(str)[used]
    present = [c for c in PARAMETER_COLUMNS if c in rows.colnames]
    sim_params = (np.column_stack([np.asarray(rows[c], dtype=float) for c in present])[used]
                  if present else None)
    domain_x = None
    if options.domain_includes_holdout and holdout and features:
        held = rows_of_samples(halos, holdout)
        hx = np.column_stack([np.asarray(held[f], dtype=float) for f in features])
        domain_x = np.vstack([x, central_extent(hx)])
    table = discover(x, y, features, options, _groups(rows, used, options), samples, sim_params,
                     domain_x)
    table.meta["slope"] = slope_note(slope == "fixed")
    return table


def slope_note(fixed: bool) -> str:
    """The SR table's ``slope``: the slope constraint of its search, in words."""
    return ("fixed: the correction f does not depend on the relation's x" if fixed
            else "free: x may enter the correction f")


def discover_slopes(halos: Table, target: Target, ranked: list[str], options: SROptions,
                    slopes: list[str], train: list[str], holdout: list[str] | None = None,
                    ) -> dict[str, Table]:
    """:func:`discover_for_target` for each of ``slopes``, the searches side by side, each on
    ``options.threads // len(slopes)`` threads (at least 1). A search's table does not depend on
    its thread count, so the tables are those of separate jobs; one job saves a process start
    (sklearn, sympy: ~3 s) and keeps the cores busy while a search's seeds do not divide them
    evenly (3 seeds on 2 threads leave one idle for a third of the run)."""
    if len(set(slopes)) != len(slopes) or not slopes:
        raise ValueError(f"slopes must be distinct, one or more of {SLOPES}, got {slopes}")
    if len(slopes) == 1:
        return {slopes[0]: discover_for_target(halos, target, ranked, options, slopes[0], train,
                                               holdout)}
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from ...provenance import provenance

    each = replace(options, threads=max(1, options.threads // len(slopes)))
    with ThreadPoolExecutor(max_workers=len(slopes)) as pool:
        futures = {slope: pool.submit(discover_for_target, halos, target, ranked, each, slope,
                                      train, holdout) for slope in slopes}
        tables = {slope: f.result() for slope, f in futures.items()}
    for table in tables.values():  # the job's options, as a job per slope records them
        table.meta["provenance"] = provenance("sr", asdict(options),
                                              {"sr.seeds": list(options.seeds)})
    return tables
