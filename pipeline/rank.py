"""Rank: which halo properties explain the deviation from a self-similar relation.

A random forest predicts the residual y - slope * x from the candidate features on the training
suites. Importances: impurity (mean decrease, with its spread over trees) and permutation (drop in
R^2 on a held-out split, mean and std over repeats). Top-k rule: the k features with the largest
mean permutation importance (impurity importance is biased towards continuous, high-variance
features; permutation on unseen data is not).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
from astropy.table import Table
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split

from .errors import DataError
from .provenance import provenance

__all__ = ["RankOptions", "rank_features"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankOptions:
    n_estimators: int = 300
    top_k: int = 3
    repeats: int = 10
    test_fraction: float = 0.25
    min_samples_leaf: int = 5
    seed: int = 0
    threads: int = 1


def rank_features(x: np.ndarray, y: np.ndarray, names: list[str], options: RankOptions) -> Table:
    """Importance of each column of ``x`` (n, k) for predicting ``y`` (n,).

    Returns a table sorted by decreasing permutation importance with columns feature,
    impurity_mean, impurity_std, permutation_mean, permutation_std, rank, selected;
    ``meta['r2_test']`` is the forest's R^2 on the held-out split.
    """
    if x.shape[1] != len(names):
        raise ValueError(f"x has {x.shape[1]} columns but {len(names)} names were given")
    if len(y) < 20:
        raise DataError(f"rank: only {len(y)} haloes; at least 20 are needed for a forest")
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=options.test_fraction, random_state=options.seed
    )
    forest = RandomForestRegressor(
        n_estimators=options.n_estimators, min_samples_leaf=options.min_samples_leaf,
        random_state=options.seed, n_jobs=options.threads,
    ).fit(x_tr, y_tr)
    per_tree = np.array([t.feature_importances_ for t in forest.estimators_])
    perm = permutation_importance(
        forest, x_te, y_te, n_repeats=options.repeats, random_state=options.seed,
        n_jobs=options.threads,
    )
    order = np.argsort(-perm.importances_mean, kind="stable")
    table = Table(
        {
            "feature": np.asarray(names)[order],
            "impurity_mean": forest.feature_importances_[order],
            "impurity_std": per_tree.std(axis=0)[order],
            "permutation_mean": perm.importances_mean[order],
            "permutation_std": perm.importances_std[order],
            "rank": np.arange(1, len(names) + 1),
        }
    )
    table["selected"] = table["rank"] <= options.top_k
    r2 = float(forest.score(x_te, y_te))
    table.meta.update(
        {
            "r2_test": r2,
            "n_train": len(y_tr),
            "n_test": len(y_te),
            "target_std": float(np.std(y)),
            "top_k_rule": "k largest mean permutation importances on the held-out split",
            "provenance": provenance("rank", asdict(options), {"rank.seed": options.seed}),
        }
    )
    top = list(table["feature"][: options.top_k])
    log.info("forest R^2 on held-out split = %.3f; top features %s", r2, top)
    return table
