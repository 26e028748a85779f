"""The rank and evaluate stages' contracts with the stages after them: what their tables'
metadata hold (the SR stage's is :class:`pipeline.discovery.sr.record.SRMeta`).

The stages write these keys into their tables' ``meta``; the report and the results page read
them through these records. ``tests/unit/test_stage_records.py`` checks that each record's
fields are exactly the keys its stage writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["RankMeta", "EvaluateMeta"]


def _known(cls, meta: Mapping) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in meta.items() if k in names}


@dataclass(frozen=True)
class RankMeta:
    """The metadata of a rank table (one target).

    The forest's skill: ``r2_cv`` (R^2 of the pooled out-of-fold predictions), ``r2_cv_std`` and
    ``r2_folds`` (per fold), ``r2_definition``, ``cv_split`` (how the folds split: by
    simulation, or by halo), ``n_haloes``, ``folds``, ``target_std``. The features:
    ``dropped_features`` (name -> why it was not ranked), correlated ``groups`` (lists of names)
    with their grouped permutation importance (mean, 16th and 84th percentiles), the absolute
    Spearman correlations at fixed x, the ``top_k_rule`` in words and, with two or more training
    samples, ``identify`` (the sample-identification rule, threshold and flagged features).
    ``target``: the study's target entry (the CLI); ``provenance``."""

    r2_cv: float
    r2_cv_std: float = float("nan")
    r2_folds: tuple[float, ...] = ()
    r2_definition: str = ""
    cv_split: str = "folds by halo"
    n_haloes: int = 0
    folds: int = 0
    dropped_features: dict = field(default_factory=dict)
    target_std: float = float("nan")
    groups: tuple[tuple[str, ...], ...] = ()
    group_importance_mean: tuple[float, ...] = ()
    group_importance_lo: tuple[float, ...] = ()
    group_importance_hi: tuple[float, ...] = ()
    spearman_abs: tuple[tuple[float, ...], ...] = ()
    top_k_rule: str = ""
    identify: dict | None = None
    provenance: dict = field(default_factory=dict)
    target: dict = field(default_factory=dict)

    @property
    def correlated_groups(self) -> tuple[tuple[str, ...], ...]:
        """The groups with more than one member (a feature alone is no group)."""
        return tuple(g for g in self.groups if len(g) > 1)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_meta(cls, meta: Mapping) -> RankMeta:
        """The record of a rank table's ``meta`` (older tables: defaults; unknown keys ignored)."""
        values = _known(cls, meta)
        values["groups"] = tuple(tuple(map(str, g)) for g in meta.get("groups") or ())
        values["dropped_features"] = dict(meta.get("dropped_features") or {})
        for name in ("r2_folds", "group_importance_mean", "group_importance_lo",
                     "group_importance_hi"):
            values[name] = tuple(meta.get(name) or ())
        values["spearman_abs"] = tuple(tuple(row) for row in meta.get("spearman_abs") or ())
        return cls(**values)


@dataclass(frozen=True)
class EvaluateMeta:
    """The metadata of an evaluate table (one target).

    ``target`` (name, y, x, slope, allow_truth_features), ``expression`` (the discovered
    correction evaluated) and ``features_sr`` (what symbolic regression was offered);
    ``relations`` (each relation's form in words), ``fitted`` (what each relation fitted on the
    training samples: intercepts, constants, the other slope's equation) and ``features``
    (the columns each relation reads); ``extrapolation`` (per sample and feature, the fraction of
    haloes outside the training range), ``parameter_coverage`` with its rule in words, the
    ``noise_floor`` (its definition, or why there is none); the evaluation's settings
    (``resample_unit``, ``divergence_dex``, ``interval_levels``), ``definitions`` of every
    metric, and ``provenance``."""

    target: dict
    relations: dict = field(default_factory=dict)
    fitted: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)
    extrapolation: dict = field(default_factory=dict)
    resample_unit: str = "sim"
    divergence_dex: float = 1.0
    interval_levels: tuple[int, ...] = (68, 95)
    noise_floor: str = ""
    definitions: str = ""
    expression: str = ""
    features_sr: tuple[str, ...] = ()
    parameter_coverage: tuple[dict, ...] = ()
    parameter_coverage_rule: str = ""
    provenance: dict = field(default_factory=dict)

    @property
    def alternative(self) -> dict | None:
        """The equation chosen under the other slope constraint (its ``constraint`` and
        ``expression``), or None where it was not evaluated."""
        return (self.fitted or {}).get("alternative")

    def features_of(self, relation: str) -> list[str]:
        """The columns ``relation`` reads."""
        return list((self.features or {}).get(relation, []))

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_meta(cls, meta: Mapping) -> EvaluateMeta:
        """The record of an evaluate table's ``meta`` (older tables: defaults)."""
        values = _known(cls, meta)
        for name in ("interval_levels", "features_sr", "parameter_coverage"):
            if name in values:
                values[name] = tuple(values[name] or ())
        return cls(**values)
