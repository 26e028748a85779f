"""The mock's intrinsic noise floor: the scatter no relation can remove.

The mock knows the latent properties it drew for every halo (true gas and stellar mass, gas
concentration and outer slope, temperature factor, non-thermal pressure support, NFW
concentration and formation offset; see
``pipeline.mock.population``). Given them, what remains of the target's scatter comes only from
the measurement itself: particle sampling, the multiphase temperature scatter, apertures. We
estimate it per sample as the out-of-fold scatter of a random forest that predicts the residual
from the self-similar relation, y - slope x, from x and those latent properties (5-fold
cross-validation within the sample, folds by simulation as everywhere else: a simulation's haloes
are never on both sides). A discovered relation whose held-out scatter reaches this
floor has found everything the mock put there; the gap to the floor is what is left to find.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from sklearn.ensemble import RandomForestRegressor

from ..columns import DERIVED_COLUMNS, HALO_COLUMNS, HI_COLUMNS, computed_from
from ..defaults import section_defaults
from ..errors import DataError
from .dataset import Target, sample_column, simulation_ids
from .folds import simulation_folds
from .forests import forest_predict

__all__ = ["LATENT_COLUMNS", "TARGET_LATENTS", "latent_features", "target_latents",
           "noise_floor_residuals"]

#: Truth-table columns used as latent properties, and how they enter the forest.
LATENT_COLUMNS = ("Mgas200c", "Mstar200c", "gas_concentration", "nonthermal_fraction_r200",
                  "c200c", "formation_offset", "gas_outer_slope", "temperature_factor")
#: latent properties only targets computed from a column need (log10 of the truth column): the
#: planted HI fraction of each halo's gas (pipeline/mock/neutral_hydrogen.py) for HI targets
TARGET_LATENTS = {"MHI200c": ("hi_fraction",)}

_KEY = ("suite", "sim", "snapshot", "group_index")


def target_latents(target: Target) -> tuple[str, ...]:
    """The extra latent columns (:data:`TARGET_LATENTS`) the target's y is computed from."""
    used = computed_from(target.y, HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS)
    return tuple(c for column, extra in TARGET_LATENTS.items() if column in used for c in extra)


def latent_features(halos: Table, truths: list[Table], extra: tuple[str, ...] = ()) -> np.ndarray:
    """(n_halos, k) latent properties of each row of ``halos`` from the mock truth tables
    (matched on suite, sim, snapshot, group_index; NaN rows where a halo has no truth), then
    log10 of the ``extra`` truth columns."""
    index: dict[tuple, tuple[np.ndarray, int]] = {}
    for t in truths:
        missing = [c for c in ("group_index", "M200c", *LATENT_COLUMNS, *extra)
                   if c not in t.colnames]
        if missing:
            raise DataError(f"mock truth table {t.meta.get('suite')}/{t.meta.get('sim')} lacks "
                            f"column(s) {missing}")
        column = {c: np.asarray(t[c], dtype=float) for c in ("M200c", *LATENT_COLUMNS)}
        latent = np.column_stack([
            np.log10(column["Mgas200c"] / column["M200c"]),
            np.log10(np.maximum(column["Mstar200c"], 1.0) / column["M200c"]),
            *(column[c] for c in LATENT_COLUMNS[2:]),
            *(np.log10(np.asarray(t[c], dtype=float)) for c in extra),
        ])
        sim_key = (str(t.meta["suite"]), str(t.meta["sim"]), int(t.meta["snapshot"]))
        for i, g in enumerate(np.asarray(t["group_index"])):
            index[(*sim_key, int(g))] = (latent, i)
    missing = [c for c in _KEY if c not in halos.colnames]
    if missing:
        raise DataError(f"halo table lacks column(s) {missing} needed to match the mock truth")
    out = np.full((len(halos), len(LATENT_COLUMNS) + len(extra)), np.nan)
    for row, key in enumerate(zip(*(np.asarray(halos[c]) for c in _KEY), strict=True)):
        hit = index.get((str(key[0]), str(key[1]), int(key[2]), int(key[3])))
        if hit is not None:
            out[row] = hit[0][hit[1]]
    return out


def noise_floor_residuals(halos: Table, truths: list[Table], target: Target,
                          seed: int = 0, threads: int = 1, n_estimators: int | None = None,
                          min_samples_leaf: int | None = None) -> np.ndarray:
    """Per-row out-of-fold residual [dex] of the best prediction of ``target.y`` from
    ``target.x`` and the latent properties, fitted within each sample (NaN where the halo has no
    truth or its sample has fewer than 50 matched haloes). ``threads``: CPU threads of the
    forests (the trees are seeded, so the fits do not depend on it). ``n_estimators``,
    ``min_samples_leaf``: each fold's forest (None: ``evaluate.floor_n_estimators`` and
    ``evaluate.floor_min_samples_leaf`` of the schema)."""
    defaults = section_defaults("evaluate")
    n_estimators = defaults["floor_n_estimators"] if n_estimators is None else n_estimators
    min_samples_leaf = (defaults["floor_min_samples_leaf"] if min_samples_leaf is None
                        else min_samples_leaf)
    latent = latent_features(halos, truths, target_latents(target))
    x = np.asarray(halos[target.x], dtype=float)
    y = np.asarray(halos[target.y], dtype=float)
    features = np.column_stack([x, latent])
    ok = np.isfinite(features).all(axis=1) & np.isfinite(y)
    resid = np.full(len(halos), np.nan)
    groups = np.asarray(halos[sample_column(halos)]).astype(str)
    sims = simulation_ids(halos) if "sim" in halos.colnames else None
    for group in np.unique(groups):
        rows = np.flatnonzero(ok & (groups == group))
        if len(rows) < 50:
            continue
        target_resid = y[rows] - target.slope * x[rows]
        folds, _ = simulation_folds(None if sims is None else sims[rows], len(rows), 5, seed)
        for k, (tr, te) in enumerate(folds):
            forest = RandomForestRegressor(n_estimators=n_estimators,
                                           min_samples_leaf=min_samples_leaf,
                                           random_state=seed + k, n_jobs=threads)
            forest.fit(features[rows[tr]], target_resid[tr])
            pred = forest_predict(forest, features[rows[te]], threads)
            resid[rows[te]] = pred - target_resid[te]
    return resid
