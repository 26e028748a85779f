"""Rank: which halo properties explain the deviation from a self-similar relation.

A random forest predicts the residual y - slope * x from the candidate features on the training
suites, in K-fold cross-validation by simulation (``folds`` forests, each scored on the fold it
did not see; a simulation's haloes are never on both sides, :mod:`pipeline.discovery.folds`).
The forest's skill is the R^2 of the pooled out-of-fold predictions (every halo predicted by the
forest that did not see its simulation), with the spread of the per-fold R^2.

Features that cannot inform a forest are dropped before it, with a logged warning naming them
(table meta ``dropped_features``): constant ones (e.g. ``redshift`` with one snapshot) and, in
the stage's CLI, those with no finite value.

Importances, all measured on held-out folds:

- permutation: drop in R^2 when one feature is shuffled (``repeats`` shuffles per fold); mean and
  a 68% interval over the folds x repeats values (percentiles);
- grouped permutation: the same with every feature of a correlated group shuffled together.
  Shuffling one of two strongly correlated features barely hurts a forest (the other stands in),
  so both look unimportant alone; the group's importance shows what they carry together;
- impurity (mean decrease over the trees of the folds' forests), for reference only: it is biased
  towards continuous, high-variance features.

Correlated groups: features joined (single linkage) when abs(Spearman rho) >= ``group_threshold``,
rho **at fixed x**: the partial Spearman correlation given the relation's own x (Pearson's r of
the features' ranks after the linear dependence on the ranks of x is removed). The relation's x
is never grouped: it is in every candidate relation, and most halo properties correlate with it
through mass; two features that do so only through mass (gas mass and c_gas over stacks in
four mass bins: rho 0.81, at fixed Y 0.29) are not near-copies for the residual at fixed x.

Top-k rule: walk the features by decreasing mean permutation importance; take a feature when its
68% interval lies above zero and no feature of its correlated group was taken already (its
partners add little that it does not carry, and they would make SR's search redundant); stop at
``top_k`` features **beside the relation's x** (x is never counted or selected: SR with a fixed
slope leaves it out, with a free slope adds it). The first member of a group met in this walk is
thus the group's representative.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from astropy.table import Table
from scipy.stats import rankdata
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import r2_score

from ..defaults import SCHEMA, schema_defaults
from ..errors import DataError
from ..provenance import provenance
from .folds import simulation_folds
from .forests import forest_predict
from .identifying import sample_identification

__all__ = ["RankOptions", "rank_features", "correlated_groups"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
@schema_defaults("rank")
class RankOptions:
    """Options of the ranking stage.

    n_estimators: trees per forest. top_k: features passed to symbolic regression (at most).
    repeats: shuffles per feature and fold. folds: cross-validation folds (>= 2).
    group_threshold: |Spearman rho| at or above which two features are in one correlated group.
    min_samples_leaf: forest regularisation. seed: folds, forests and shuffles.
    threads: CPU threads of the forests. max_samples_per_tree: each tree's bootstrap draws at
    most this many haloes (at CAMELS LH size, 10^5 training haloes, the forests would otherwise
    dominate the study's time; below it, nothing changes). identify_threshold,
    sample_identifying: the flag and rule for features that tell the training samples apart at
    fixed x (:mod:`.identifying`).
    """

    n_estimators: int = SCHEMA
    top_k: int = SCHEMA
    repeats: int = SCHEMA
    folds: int = SCHEMA
    group_threshold: float = SCHEMA
    min_samples_leaf: int = SCHEMA
    seed: int = SCHEMA
    threads: int = SCHEMA
    max_samples_per_tree: int = SCHEMA
    identify_threshold: float = SCHEMA
    sample_identifying: str = SCHEMA


def correlated_groups(x: np.ndarray, threshold: float,
                      alone: tuple[int, ...] = ()) -> tuple[list[list[int]], np.ndarray]:
    """Groups of column indices of ``x`` (n, k) linked by |Spearman rho| >= ``threshold`` (single
    linkage: a chain of strong correlations is one group), and the (k, k) |rho| matrix. Columns
    in ``alone`` stay in groups of their own, and rho is partial given them (their ranks'
    linear dependence removed from every column's ranks first)."""
    k = x.shape[1]
    # Spearman's rho as Pearson's r of the ranks, for any k (scipy's spearmanr returns a
    # scalar for two columns)
    ranks = np.column_stack([rankdata(x[:, i]) for i in range(k)])
    if alone:
        given = np.column_stack([np.ones(len(ranks)), ranks[:, list(alone)]])
        coef, *_ = np.linalg.lstsq(given, ranks, rcond=None)
        ranks = ranks - given @ coef
        ranks[:, list(alone)] = 0.0  # exactly constant: correlates with nothing
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.abs(np.atleast_2d(np.corrcoef(ranks, rowvar=False)))
    rho = np.nan_to_num(rho, nan=0.0)  # a constant column correlates with nothing
    label = list(range(k))
    for i in range(k):
        for j in range(i + 1, k):
            if rho[i, j] >= threshold and label[i] != label[j] and i not in alone and j not in alone:
                old, new = label[j], label[i]
                label = [new if v == old else v for v in label]
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(label):
        groups.setdefault(g, []).append(i)
    return sorted(groups.values(), key=lambda g: g[0]), rho


def _permutation_drops(forest, x: np.ndarray, y: np.ndarray, columns: list[list[int]],
                       repeats: int, rng: np.random.Generator, threads: int) -> np.ndarray:
    """(len(columns), repeats) drops in R^2 when the columns of each set are shuffled together
    (rows permuted jointly, so the group's internal correlations survive). All shuffled copies
    go through the forest in one predict call: per-call overhead (a thread pool per call)
    otherwise dominates, and made more threads slower."""
    n = len(x)
    shuffled = np.empty((1 + len(columns) * repeats, n, x.shape[1]), dtype=x.dtype)
    shuffled[:] = x
    for c, cols in enumerate(columns):
        for r in range(repeats):
            block = shuffled[1 + c * repeats + r]
            block[:, cols] = x[rng.permutation(n)][:, cols]
    pred = forest_predict(forest, shuffled.reshape(-1, x.shape[1]), threads)
    pred = pred.reshape(len(shuffled), n)
    base = r2_score(y, pred[0])
    scores = np.array([r2_score(y, p) for p in pred[1:]])
    return (base - scores).reshape(len(columns), repeats)


def constant_columns(x: np.ndarray) -> list[int]:
    """Indices of the columns of ``x`` with a single value (over their finite entries)."""
    out = []
    for i in range(x.shape[1]):
        v = x[:, i][np.isfinite(x[:, i])]
        if v.size == 0 or np.all(v == v[0]):
            out.append(i)
    return out


def _checked_inputs(x: np.ndarray, y: np.ndarray, names: list[str], options: RankOptions,
                    dropped: dict[str, str] | None) -> tuple[np.ndarray, list[str], dict[str, str]]:
    """``x`` and ``names`` without the constant columns (dropped with a warning and listed with
    the caller's ``dropped``); errors for too few or non-finite rows and bad options."""
    if x.shape[1] != len(names):
        raise ValueError(f"x has {x.shape[1]} columns but {len(names)} names were given")
    if len(y) < 20:
        raise DataError(f"rank: only {len(y)} haloes; at least 20 are needed for a forest")
    if options.folds < 2:
        raise ValueError(f"rank.folds must be >= 2, got {options.folds}")
    bad = ~np.isfinite(x).all(axis=1) | ~np.isfinite(y)
    if bad.any():
        raise DataError(f"rank: {int(bad.sum())} halo(es) with NaN/inf features or target; "
                        "the assemble stage should have dropped them")
    dropped = dict(dropped or {})
    constant = constant_columns(x)
    for i in constant:
        dropped[names[i]] = f"constant ({x[0, i]:g} for every halo)"
    if constant:
        log.warning("rank: feature(s) %s are constant over the training haloes and are dropped",
                    [names[i] for i in constant])
        keep = [i for i in range(x.shape[1]) if i not in constant]
        x, names = x[:, keep], [names[i] for i in keep]
    if not names:
        raise DataError(f"rank: no feature left to rank (dropped: {dropped})")
    return x, names, dropped


def _cross_validated_importances(x: np.ndarray, y: np.ndarray, groups: list[list[int]],
                                 sims: np.ndarray | None, options: RankOptions):
    """Per fold (by simulation): a forest, its out-of-fold predictions and R^2, the held-out
    permutation drops of each feature and of each correlated group, the impurity importances.
    Returns (single drops (features, folds x repeats), grouped drops, impurity (trees,
    features), per-fold R^2, out-of-fold predictions, the split in words)."""
    rng = np.random.default_rng(options.seed)
    folds, cv_split = simulation_folds(sims, len(y), options.folds, options.seed)
    single: list = []
    grouped: list = []
    impurity: list = []
    r2: list = []
    oof = np.full(len(y), np.nan)
    for k, (tr, te) in enumerate(folds):
        forest = RandomForestRegressor(
            n_estimators=options.n_estimators, min_samples_leaf=options.min_samples_leaf,
            random_state=options.seed + k, n_jobs=options.threads,
            max_samples=options.max_samples_per_tree if len(tr) > options.max_samples_per_tree else None,
        ).fit(x[tr], y[tr])
        oof[te] = forest_predict(forest, x[te], options.threads)
        r2.append(float(r2_score(y[te], oof[te])))
        single.append(_permutation_drops(forest, x[te], y[te], [[i] for i in range(x.shape[1])],
                                         options.repeats, rng, options.threads))
        grouped.append(_permutation_drops(forest, x[te], y[te], groups,
                                          options.repeats, rng, options.threads))
        impurity.extend(t.feature_importances_ for t in forest.estimators_)
    return (np.concatenate(single, axis=1), np.concatenate(grouped, axis=1), np.array(impurity),
            r2, oof, cv_split)


def _select_top(order: np.ndarray, lo: np.ndarray, group_of: np.ndarray, alone: tuple[int, ...],
                top_k: int, excluded: np.ndarray | None = None) -> np.ndarray:
    """Up to ``top_k`` features in ``order`` (decreasing importance), each with its lower 68%
    bound above zero, one per correlated group, never the relation's own x (``alone``) nor an
    ``excluded`` one (sample-identifying)."""
    selected = np.zeros(len(order), dtype=bool)
    taken_groups: set[int] = set()
    for i in order:
        if selected.sum() >= top_k:
            break
        if i in alone or (excluded is not None and excluded[i]):
            continue
        if lo[i] > 0 and group_of[i] not in taken_groups:
            selected[i] = True
            taken_groups.add(group_of[i])
    return selected


def _identification(x: np.ndarray, names: list[str], alone: tuple[int, ...],
                    samples: np.ndarray | None, x_rel: np.ndarray | None, sims: np.ndarray | None,
                    options: RankOptions) -> dict[str, float] | None:
    """Sample-identification scores (the relation's x scores 0), or None with fewer than two
    training samples."""
    if samples is None or x_rel is None or len(np.unique(np.asarray(samples).astype(str))) < 2:
        return None
    others = [i for i in range(len(names)) if i not in alone]
    scores = sample_identification(x_rel, x[:, others], [names[i] for i in others], samples,
                                   sims, options.folds, options.seed)
    log.info("sample identification at fixed x (Somers' D): %s",
             {k: round(v, 3) for k, v in scores.items()})
    return {n: scores.get(n, 0.0) for n in names}


def rank_features(x: np.ndarray, y: np.ndarray, names: list[str], options: RankOptions,
                  ungrouped: Sequence[str] = (), sims: np.ndarray | None = None,
                  dropped: dict[str, str] | None = None, samples: np.ndarray | None = None,
                  x_rel: np.ndarray | None = None) -> Table:
    """Importance of each column of ``x`` (n, k) for predicting ``y`` (n,). Features named in
    ``ungrouped`` (the relation's own x) are never put in a correlated group. ``sims``: each
    row's simulation (suite and name), the unit of the cross-validation folds (None: folds by
    halo). Constant columns are dropped with a warning; ``dropped`` (name -> reason) lists
    features the caller dropped before, for the table meta. ``samples`` (each row's training
    sample) and ``x_rel`` (the relation's x per row): with two or more samples, each feature's
    sample-identification score (:mod:`.identifying`) and flag, and with
    ``options.sample_identifying == "exclude"`` flagged features are not selected.

    Returns a table sorted by decreasing mean permutation importance, columns: feature,
    permutation_mean, permutation_std, permutation_lo, permutation_hi (68% interval),
    group (correlated-group id), group_importance (grouped permutation, mean), impurity_mean,
    impurity_std, rank, selected, identify_score and identifies_sample (with two or more
    samples). ``meta``: r2_cv (pooled out-of-fold), r2_cv_std (over
    folds), r2_folds, cv_split, groups (lists of names), group_importance_lo/hi,
    dropped_features, the top-k rule, provenance.
    """
    x, names, dropped = _checked_inputs(x, y, names, options, dropped)
    alone = tuple(i for i, n in enumerate(names) if n in set(ungrouped))
    groups_of_features, rho = correlated_groups(x, options.group_threshold, alone)
    group_of = np.empty(x.shape[1], dtype=int)
    for g, members in enumerate(groups_of_features):
        group_of[members] = g
    cv = _cross_validated_importances(x, y, groups_of_features, sims, options)
    single_all, grouped_all, impurity, r2, oof, cv_split = cv
    mean = single_all.mean(axis=1)
    lo, hi = np.percentile(single_all, [16, 84], axis=1)
    group_mean = grouped_all.mean(axis=1)
    order = np.argsort(-mean, kind="stable")
    identify = _identification(x, names, alone, samples, x_rel, sims, options)
    flagged = (None if identify is None
               else np.array([identify[n] >= options.identify_threshold for n in names]))
    selected = _select_top(order, lo, group_of, alone, options.top_k,
                           flagged if options.sample_identifying == "exclude" else None)
    table = Table(
        {
            "feature": np.asarray(names)[order],
            "permutation_mean": mean[order],
            "permutation_std": single_all.std(axis=1)[order],
            "permutation_lo": lo[order],
            "permutation_hi": hi[order],
            "group": group_of[order],
            "group_importance": group_mean[group_of[order]],
            "impurity_mean": impurity.mean(axis=0)[order],
            "impurity_std": impurity.std(axis=0)[order],
            "rank": np.arange(1, len(names) + 1),
            "selected": selected[order],
        }
    )
    if identify is not None and flagged is not None:
        _add_identification(table, identify, flagged[order], options)
    table.meta.update(_ranking_meta(y, oof, r2, cv_split, dropped, names, groups_of_features,
                                    group_mean, grouped_all, rho, options))
    log.info("forest out-of-fold R^2 = %.3f (per fold +- %.3f, %s); selected %s; correlated "
             "groups %s", table.meta["r2_cv"], np.std(r2), cv_split,
             list(table["feature"][table["selected"]]),
             [g for g in table.meta["groups"] if len(g) > 1])
    return table


def _add_identification(table: Table, identify: dict[str, float], flagged: np.ndarray,
                        options: RankOptions) -> None:
    """Each feature's sample-identification score and flag (rows in the table's order), and the
    rule in the meta."""
    table["identify_score"] = [identify[n] for n in table["feature"]]
    table["identifies_sample"] = flagged
    table.meta["identify"] = {
        "threshold": options.identify_threshold,
        "rule": options.sample_identifying,
        "flagged": [str(n) for n in table["feature"][table["identifies_sample"]]],
        "definition": "Somers' D |2 AUC - 1| between training samples of the feature's "
                      "out-of-fold residual about a cubic in x (folds by simulation; largest "
                      "pair), pipeline.discovery.identifying"}


def _ranking_meta(y: np.ndarray, oof: np.ndarray, r2: list[float], cv_split: str,
                  dropped: dict[str, str], names: list[str], groups: list[list[int]],
                  group_mean: np.ndarray, grouped_all: np.ndarray, rho: np.ndarray,
                  options: RankOptions) -> dict:
    """The rank table's meta: the forest's skill (pooled out-of-fold R^2 and per fold), the
    split, dropped features, correlated groups with their grouped importance, the top-k rule
    and provenance."""
    glo, ghi = np.percentile(grouped_all, [16, 84], axis=1)
    return {
        "r2_cv": float(r2_score(y, oof)),
        "r2_cv_std": float(np.std(r2)),
        "r2_folds": r2,
        "r2_definition": "R^2 of the pooled out-of-fold predictions (each halo predicted by "
                         "the forest that did not see its simulation); r2_cv_std: spread of "
                         "the per-fold R^2",
        "cv_split": cv_split,
        "n_haloes": len(y),
        "folds": len(r2),
        "dropped_features": dropped,
        "target_std": float(np.std(y)),
        "groups": [[names[i] for i in g] for g in groups],
        "group_importance_mean": group_mean.tolist(),
        "group_importance_lo": glo.tolist(),
        "group_importance_hi": ghi.tolist(),
        "spearman_abs": rho.tolist(),
        "top_k_rule": (
            f"up to {options.top_k} features beside the relation's x by decreasing mean "
            "held-out permutation importance, each with its 68% interval above zero, at most "
            f"one per correlated group (|Spearman rho| at fixed x >= {options.group_threshold})"
        ),
        "provenance": provenance("rank", asdict(options), {"rank.seed": options.seed}),
    }
