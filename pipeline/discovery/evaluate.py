"""Evaluate: how well each relation predicts the target on every sample, per mass bin and over all
masses, with intervals from resampling simulations.

Relations (:mod:`pipeline.discovery.relations`, all fitted on the training samples): the
self-similar ``baseline``, the ``discovered`` equation, a ``blackbox`` forest on the same
features, the ``published`` form where it applies, and (mock) the noise ``floor``. Every one goes
through the same path: predictions -> per-halo residuals r = log10 predicted - log10 true [dex]
-> metrics (:mod:`pipeline.discovery.metrics`: bias_log, scatter_log, scatter_frac, rms_log,
the fractions within 0.1 and 0.2 dex, reduction against the baseline) -> paired
cluster-bootstrap intervals over simulations.

Constants are as fitted on the training samples. ``bias_log`` and ``rms_log`` judge them as they
are (a held-out sample pays for a normalisation that does not transfer); ``scatter_log`` and
``scatter_frac`` are taken about each set's own mean, i.e. what a normalisation refitted per
sample would leave (the form and every other constant kept).

Divergence: a halo counts as diverged for a relation when its prediction is non-finite or its
residual exceeds ``divergence_dex`` (default 1 dex, a factor 10 in the predicted quantity, which
is 5-10 times the baseline scatter of these relations). Diverged haloes are left out of that
relation's metrics, counted in ``n_diverged`` and named in the log and the report's summary.

Extrapolation: per held-out sample, the fraction of haloes outside the training range (min-max
over the training haloes) of each feature a relation reads (table meta ``extrapolation``), and
per row ``extrap_frac``, the fraction outside the range of at least one of them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from astropy.table import Table, vstack

from ..columns import PARAMETER_COLUMNS
from ..defaults import SCHEMA, schema_defaults
from ..errors import DataError
from ..provenance import provenance
from .coverage import __doc__ as COVERAGE_DEFINITION
from .coverage import parameter_coverage
from .dataset import Target, rows_of_samples, simulation_ids
from .metrics import (
    LEVELS,
    METRICS,
    WITHIN_DEX,
    cluster_sums,
    interval_columns,
    metrics_from_sums,
    reduction,
    resample_counts,
    within_fractions,
)
from .metrics import __doc__ as METRIC_DEFINITIONS
from .noise_floor import __doc__ as FLOOR_DEFINITION
from .relations import (
    Relation,
    baseline_relation,
    blackbox_relation,
    discovered_relation,
    floor_relation,
    published_relation,
)
from .sr.record import SRMeta

__all__ = ["EvaluateOptions", "evaluate_study", "evaluate_tables", "study_relations", "residual_table",
           "evaluate_relations", "per_simulation_table", "extrapolation_fractions"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
@schema_defaults("evaluate")
class EvaluateOptions:
    """Options of the evaluate stage.

    mass_bins: edges in ``bin_column`` (default log10 M200c [Msun]). bootstrap: resamples per
    interval.
    min_halos_per_bin: fewer haloes in a bin -> NaN metrics (with a warning).
    min_halos_per_sim: fewer haloes in a simulation -> no per-simulation scatter or reduction.
    min_sims_for_cluster_bootstrap: fewer simulations in a set -> haloes are resampled instead.
    divergence_dex: |residual| above which a halo counts as diverged [dex].
    seed: resampling and the forests (black box, noise floor). threads: CPU threads of the
    forests. blackbox: add the black-box reference; blackbox_n_estimators,
    blackbox_min_samples_leaf: its forest. floor_n_estimators, floor_min_samples_leaf: the
    forests of the mock's noise floor.
    """

    mass_bins: list[float] = SCHEMA
    bin_column: str = SCHEMA
    bootstrap: int = SCHEMA
    min_halos_per_bin: int = SCHEMA
    min_halos_per_sim: int = SCHEMA
    min_sims_for_cluster_bootstrap: int = SCHEMA
    divergence_dex: float = SCHEMA
    seed: int = SCHEMA
    threads: int = SCHEMA
    blackbox: bool = SCHEMA
    blackbox_n_estimators: int = SCHEMA
    blackbox_min_samples_leaf: int = SCHEMA
    floor_n_estimators: int = SCHEMA
    floor_min_samples_leaf: int = SCHEMA


def _role_of(sample: str, train_samples: list[str]) -> str:
    return "train" if sample in train_samples else "holdout"


def residual_table(halos: Table, target: Target, relations: list[Relation],
                   samples: list[str], train_samples: list[str], divergence_dex: float,
                   bin_column: str = "log10_M200c") -> Table:
    """Per-halo residuals of every relation on ``samples``: columns ``resid_<relation>`` [dex]
    (log10 predicted - log10 true, as predicted), ``diverged_<relation>`` (non-finite, or
    |residual| > ``divergence_dex``) and ``extrap_<relation>`` (outside the training range of a
    feature the relation reads), with the halo's sample, role, simulation, mass, redshift and
    simulation parameters. Haloes whose true y or x is non-finite are not scored (logged)."""
    keep = [c for c in ("sample", "suite", "set", "sim", "snapshot", "group_index", "mass_bin",
                        "redshift", "log10_M200c", *PARAMETER_COLUMNS) if c in halos.colnames]
    if bin_column not in halos.colnames:
        raise DataError(f"evaluate.bin_column: no column {bin_column!r} in the halo table")
    keep += [bin_column] if bin_column not in keep else []
    train = rows_of_samples(halos, train_samples)
    parts = []
    for sample in samples:
        rows = rows_of_samples(halos, [sample])
        truth = np.asarray(rows[target.y], dtype=float)
        scored = np.isfinite(truth) & np.isfinite(np.asarray(rows[target.x], dtype=float))
        if (~scored).any():
            log.warning("%s: %d of %d haloes have a non-finite %s or %s and are not scored",
                        sample, int((~scored).sum()), len(rows), target.y, target.x)
        rows = rows[scored]
        out = rows[keep]
        if "sample" not in out.colnames:
            out["sample"] = [sample] * len(out)
        # the resampling unit: the simulation, whatever snapshots and samples it appears in
        out["sim_id"] = simulation_ids(rows)
        out["role"] = _role_of(sample, train_samples)
        for rel in relations:
            r = rel.predict(rows) - np.asarray(rows[target.y], dtype=float)
            bad = ~np.isfinite(r) | (np.abs(np.where(np.isfinite(r), r, 0.0)) > divergence_dex)
            out[f"resid_{rel.name}"] = r
            out[f"diverged_{rel.name}"] = bad
            if rel.features:
                out[f"extrap_{rel.name}"] = _outside_training(rows, train, rel.features)
            if bad.any():
                log.warning("%s: relation %s diverges on %d of %d haloes (non-finite or |residual| "
                            "> %g dex); they are left out of its metrics and counted", sample,
                            rel.name, int(bad.sum()), len(rows), divergence_dex)
        parts.append(out)
    table = vstack(parts)
    table.meta = {"target": asdict(target), "divergence_dex": divergence_dex,
                  "relations": {rel.name: rel.description for rel in relations},
                  "definition": "resid_<relation> = log10 predicted - log10 true of target.y "
                                "[dex], constants as fitted on the training samples"}
    return table


def extrapolation_fractions(halos: Table, relations: list[Relation], train_samples: list[str],
                            samples: list[str]) -> dict[str, dict[str, float]]:
    """sample -> feature -> fraction of the sample's haloes outside the training range
    [min, max over the training haloes] of that feature, for every feature a relation reads."""
    features = list(dict.fromkeys(f for rel in relations for f in rel.features))
    train = rows_of_samples(halos, train_samples)
    ranges: dict[str, tuple[float, float]] = {}
    for f in features:
        v = np.asarray(train[f], dtype=float)
        v = v[np.isfinite(v)]
        ranges[f] = (float(v.min()), float(v.max())) if v.size else (np.nan, np.nan)
    out: dict[str, dict] = {}
    for sample in samples:
        rows = rows_of_samples(halos, [sample])
        out[sample] = {}
        for f in features:
            v = np.asarray(rows[f], dtype=float)
            lo, hi = ranges[f]
            out[sample][f] = float(np.mean((v < lo) | (v > hi))) if len(v) else np.nan
    return out


def _outside_training(table: Table, train: Table, features) -> np.ndarray:
    """Per row: outside the training range of at least one of ``features``."""
    out = np.zeros(len(table), dtype=bool)
    for f in features:
        t = np.asarray(train[f], dtype=float)
        t = t[np.isfinite(t)]
        v = np.asarray(table[f], dtype=float)
        if t.size:
            out |= (v < t.min()) | (v > t.max())
    return out


def _clusters(sims: np.ndarray, min_clusters: int) -> tuple[np.ndarray, int, str]:
    """Cluster index of each halo, their number and the resampling unit: simulations, or haloes
    (with the reason) where there are fewer than ``min_clusters`` simulations."""
    names, index = np.unique(sims, return_inverse=True)
    if len(names) >= min_clusters:
        return index, len(names), "sim"
    return (np.arange(len(sims)), len(sims),
            f"halo ({len(names)} simulation(s) < {min_clusters})")


def _set_metrics(resid: Table, relations: list[Relation], options: EvaluateOptions,
                 rng: np.random.Generator) -> list[dict]:
    """One row per relation: metrics, n, n_diverged, paired reduction and intervals, for the
    haloes of ``resid`` (one sample and mass range)."""
    n = len(resid)
    cluster, n_clusters, unit = _clusters(np.asarray(resid["sim_id"]).astype(str),
                                          options.min_sims_for_cluster_bootstrap)
    counts = resample_counts(n_clusters, options.bootstrap, rng)
    base_ok = ~np.asarray(resid["diverged_baseline"], dtype=bool)
    rows = []
    for rel in relations:
        r = np.asarray(resid[f"resid_{rel.name}"], dtype=float)
        ok = ~np.asarray(resid[f"diverged_{rel.name}"], dtype=bool)
        row = {"relation": rel.name, "n_halos": n, "n_diverged": int((~ok).sum()),
               "n_sims": len(np.unique(np.asarray(resid["sim_id"]).astype(str))),
               "resample_unit": unit}
        own = cluster_sums(r[ok], cluster[ok], n_clusters)
        value = metrics_from_sums(own.total())
        draws = metrics_from_sums(own.resampled(counts))
        for m in METRICS:
            row[m] = float(value[m])
            row.update(interval_columns(m, draws[m]))
        for m, (fraction, d) in within_fractions(r, ok, cluster, n_clusters, counts).items():
            row[m] = fraction
            row.update(interval_columns(m, d))
        # reduction against the baseline on the haloes both score, same resamples (paired)
        both = ok & base_ok
        rb = np.asarray(resid["resid_baseline"], dtype=float)
        pair_rel = cluster_sums(r[both], cluster[both], n_clusters)
        pair_base = cluster_sums(rb[both], cluster[both], n_clusters)
        for m, key in (("scatter_log", "reduction_log"), ("scatter_frac", "reduction_frac")):
            v: float | np.ndarray = reduction(metrics_from_sums(pair_rel.total())[m],
                          metrics_from_sums(pair_base.total())[m])
            d = reduction(metrics_from_sums(pair_rel.resampled(counts))[m],
                          metrics_from_sums(pair_base.resampled(counts))[m])
            row[key] = float(v)
            row.update(interval_columns(key, d))
        rows.append(row)
    return rows


def _floor_where_estimable(rows: list[dict], training: bool) -> list[dict]:
    """The noise floor is what no relation of observables can remove: where its estimate (a
    forest's out-of-fold prediction from the latent properties, poor where a bin holds few
    haloes) exceeds the scatter another relation reaches on the same haloes, it contradicts its
    definition. Its metrics are then NaN and ``note`` says why, instead of a number that reads
    as a floor above the relations. On a ``training`` sample the black box is left out of the
    comparison: a forest scored on the haloes it was fitted to may go below any floor."""
    floor = next((r for r in rows if r["relation"] == "floor"), None)
    if floor is None or not np.isfinite(floor.get("scatter_log", np.nan)):
        return rows
    others = [(r["scatter_log"], r["relation"]) for r in rows
              if r["relation"] != "floor" and not (training and r["relation"] == "blackbox")
              and np.isfinite(r.get("scatter_log", np.nan))]
    if not others or floor["scatter_log"] <= min(others)[0]:
        return rows
    best, name = min(others)
    floor["note"] = (f"noise floor not estimable here: its estimate {floor['scatter_log']:.3f} "
                     f"dex exceeds the {name} relation's {best:.3f} dex on these "
                     f"{floor['n_halos']} haloes (too few for the latent-property forest)")
    keep = {"relation", "n_halos", "n_diverged", "n_sims", "resample_unit", "note"}
    for key in list(floor):
        if key not in keep:
            floor[key] = np.nan
    return rows


def _nan_rows(relations: list[Relation], n: int, n_sims: int, reason: str) -> list[dict]:
    return [{"relation": rel.name, "n_halos": n, "n_diverged": 0, "n_sims": n_sims,
             "resample_unit": reason} for rel in relations]


def evaluate_relations(resid: Table, relations: list[Relation], options: EvaluateOptions,
                       train_samples: list[str], holdout_samples: list[str]) -> Table:
    """The metric table: one row per (sample, mass bin, relation), the bins of
    ``options.mass_bins`` plus an ``all`` row over the whole range, from the per-halo residuals
    of :func:`residual_table`.

    Columns: sample, role, bin ('bin' or 'all'), log10_M_lo, log10_M_hi, relation, n_halos,
    n_diverged, n_sims, resample_unit, extrap_frac, the metrics of
    :mod:`pipeline.discovery.metrics` and the reductions against the baseline, each with
    ``_lo68``, ``_hi68``, ``_lo95``, ``_hi95``."""
    if not any(rel.name == "baseline" for rel in relations):
        raise ValueError("evaluate: the relations must include the baseline")
    rng = np.random.default_rng(options.seed)
    edges = list(options.mass_bins)
    bins = [(edges[i], edges[i + 1], "bin") for i in range(len(edges) - 1)]
    bins.append((edges[0], edges[-1], "all"))
    rows = []
    for sample in list(train_samples) + list(holdout_samples):
        sub = resid[np.asarray(resid["sample"]).astype(str) == sample]
        if len(sub) == 0:
            raise DataError(f"evaluate: no scored halo of sample {sample}")
        lm = np.asarray(sub[options.bin_column], dtype=float)
        n_all = int(np.sum((lm >= edges[0]) & (lm < edges[-1])))
        if n_all < options.min_halos_per_bin:
            raise DataError(
                f"evaluate: sample {sample} has {n_all} halo(es) with {options.bin_column} in "
                f"[{edges[0]:g}, {edges[-1]:g}) (evaluate.mass_bins), fewer than "
                f"evaluate.min_halos_per_bin = {options.min_halos_per_bin}: nothing to evaluate. Its "
                f"haloes span {options.bin_column} = {np.min(lm):.2f}..{np.max(lm):.2f}; widen "
                "evaluate.mass_bins or lower evaluate.min_halos_per_bin")
        for lo, hi, kind in bins:
            in_bin = (lm >= lo) & (lm < hi)
            n = int(in_bin.sum())
            n_sims = len(np.unique(np.asarray(sub["sim_id"])[in_bin].astype(str)))
            if n < options.min_halos_per_bin:
                log.warning("%s, log10 M in [%g, %g): %d haloes < evaluate.min_halos_per_bin = %d; "
                            "metrics not computed", sample, lo, hi, n, options.min_halos_per_bin)
                set_rows = _nan_rows(relations, n, n_sims, "none (too few haloes)")
            else:
                set_rows = _floor_where_estimable(
                    _set_metrics(sub[in_bin], relations, options, rng), sample in train_samples)
            for row in set_rows:
                column = f"extrap_{row['relation']}"
                row.update({"sample": sample, "suite": str(sub["suite"][0]),
                            "role": _role_of(sample, train_samples), "bin": kind,
                            "log10_M_lo": lo, "log10_M_hi": hi,
                            "extrap_frac": float(np.mean(np.asarray(sub[column])[in_bin]))
                            if column in sub.colnames and n else np.nan})
                rows.append(row)
    columns = ["sample", "suite", "role", "bin", "log10_M_lo", "log10_M_hi", "relation", "n_halos",
               "n_diverged", "n_sims", "resample_unit", "extrap_frac", "note"]
    within = [f"frac_within_{t:g}".replace(".", "p") + "dex" for t in WITHIN_DEX]
    for m in (*METRICS, *within, "reduction_log", "reduction_frac"):
        columns.append(m)
        for level in LEVELS:
            columns += [f"{m}_lo{level}", f"{m}_hi{level}"]
    for row in rows:
        row.setdefault("note", "")
    out = Table(rows=[[row.get(c, np.nan) for c in columns] for row in rows], names=columns)
    units = {row["resample_unit"] for row in rows if not row["resample_unit"].startswith("none")}
    out.meta["resample_unit"] = "sim" if units == {"sim"} else "; ".join(sorted(units)) or "none"
    return out


def per_simulation_table(resid: Table, relations: list[Relation], samples: list[str],
                         mass_range: tuple[float, float], bin_column: str = "log10_M200c",
                         min_halos: int = 2) -> Table:
    """One row per (sample, simulation, relation) over ``mass_range`` (of ``bin_column``): n_halos,
    n_diverged, bias_log, scatter_log, rms_log and reduction_log against the baseline, so that a
    reader sees how uneven a reduction is from one simulation to the next. A simulation with
    fewer than ``min_halos`` haloes scored by both relations gets NaN scatter and reduction (a
    scatter of two rows is no statistic: an LH set's stacks gave -50636%); its bias and rms,
    defined for any count, stay."""
    rows = []
    lm = np.asarray(resid[bin_column], dtype=float)
    in_range = (lm >= mass_range[0]) & (lm < mass_range[1])
    for sample in samples:
        sel = in_range & (np.asarray(resid["sample"]).astype(str) == sample)
        sims = np.asarray(resid["sim"]).astype(str)
        for sim in np.unique(sims[sel]):
            one = resid[sel & (sims == sim)]
            base_ok = ~np.asarray(one["diverged_baseline"], dtype=bool)
            rb = np.asarray(one["resid_baseline"], dtype=float)
            for rel in relations:
                r = np.asarray(one[f"resid_{rel.name}"], dtype=float)
                ok = ~np.asarray(one[f"diverged_{rel.name}"], dtype=bool)
                zeros = np.zeros(int(ok.sum()), dtype=int)
                m: dict[str, Any] = metrics_from_sums(cluster_sums(r[ok], zeros, 1).total())
                both = ok & base_ok
                zb = np.zeros(int(both.sum()), dtype=int)
                red: float | np.ndarray = reduction(
                    metrics_from_sums(cluster_sums(r[both], zb, 1).total())["scatter_log"],
                    metrics_from_sums(cluster_sums(rb[both], zb, 1).total())["scatter_log"])
                if int(both.sum()) < min_halos:
                    red = np.nan
                    m = {**m, "scatter_log": np.nan}
                rows.append({"sample": sample, "suite": str(one["suite"][0]),
                             "role": str(one["role"][0]), "sim": sim,
                             "relation": rel.name, "n_halos": len(one),
                             "n_diverged": int((~ok).sum()),
                             **{k: float(m[k]) for k in ("bias_log", "scatter_log", "rms_log")},
                             "reduction_log": float(red)})
    names = ["sample", "suite", "role", "sim", "relation", "n_halos", "n_diverged", "bias_log",
             "scatter_log", "rms_log", "reduction_log"]
    return Table(rows=[[row[c] for c in names] for row in rows], names=names)


def evaluation_meta(target: Target, relations: list[Relation], options: EvaluateOptions,
                    extrapolation: dict, has_floor: bool) -> dict:
    """Table metadata shared by the evaluate outputs."""
    return {
        "target": asdict(target),
        "relations": {rel.name: rel.description for rel in relations},
        "fitted": {rel.name: rel.fitted for rel in relations if rel.fitted},
        "features": {rel.name: list(rel.features) for rel in relations},
        "extrapolation": extrapolation,
        "divergence_dex": options.divergence_dex,
        "interval_levels": list(LEVELS),
        "noise_floor": FLOOR_DEFINITION if has_floor else "none (real data)",
        "definitions": __doc__ + "\n" + METRIC_DEFINITIONS,
        "provenance": provenance("evaluate", asdict(options), {"evaluate.seed": options.seed}),
    }


def study_relations(halos: Table, target: Target, expression: str, features: list[str],
                    train_samples: list[str], options: EvaluateOptions,
                    floor_column: str | None = None,
                    alternative: tuple[str, list[str], str] | None = None) -> list[Relation]:
    """The relations of a study, all fitted on ``train_samples``: baseline, discovered, black box
    (``options.blackbox``), published form (where it applies) and noise floor (``floor_column``
    of ``halos`` holds its residuals)."""
    train = rows_of_samples(halos, train_samples)
    relations = [baseline_relation(train, target), discovered_relation(target, expression, features)]
    if alternative is not None:  # the equation found under the other slope constraint
        alt_expression, alt_features, constraint = alternative
        alt = discovered_relation(target, alt_expression, alt_features)
        relations.append(Relation("alternative", f"{alt.description} (slope {constraint})",
                                  alt.predict, alt.features,
                                  {"expression": alt_expression, "constraint": constraint}))
    if options.blackbox and features:
        relations.append(blackbox_relation(train, target, features, seed=options.seed,
                                           threads=options.threads,
                                           n_estimators=options.blackbox_n_estimators,
                                           min_samples_leaf=options.blackbox_min_samples_leaf))
    elif options.blackbox:
        log.warning("no black box: the discovered relation uses no feature")
    published = published_relation(train, target)
    if published is not None:
        relations.append(published)
    if floor_column is not None:
        relations.append(floor_relation(target, floor_column))
    return relations


def evaluate_tables(halos: Table, sr_meta: SRMeta, target: Target, train_samples: list[str],
                    holdout_samples: list[str], options: EvaluateOptions,
                    truths: list[Table] | None = None, alternative_meta: SRMeta | None = None,
                    ) -> tuple[Table, Table, Table]:
    """The evaluate stage from the other stages' outputs: the SR table's meta (its chosen
    equation and features), the mock's truth tables where there are some (the noise floor from
    the latent halo properties) and the meta of the SR table of the other slope constraint
    (evaluated beside). Returns what :func:`evaluate_study` does."""
    floor = None
    if truths:
        from .noise_floor import noise_floor_residuals

        floor = noise_floor_residuals(halos, truths, target, seed=options.seed,
                                      threads=options.threads,
                                      n_estimators=options.floor_n_estimators,
                                      min_samples_leaf=options.floor_min_samples_leaf)
    alternative = None
    if alternative_meta is not None:
        alternative = (alternative_meta.chosen, list(alternative_meta.features),
                       alternative_meta.slope)
    return evaluate_study(halos, target, sr_meta.chosen, list(sr_meta.features),
                          train_samples, holdout_samples, options, floor, alternative)


def evaluate_study(halos: Table, target: Target, expression: str, features: list[str],
                   train_samples: list[str], holdout_samples: list[str], options: EvaluateOptions,
                   floor_resid: np.ndarray | None = None,
                   alternative: tuple[str, list[str], str] | None = None,
                   ) -> tuple[Table, Table, Table]:
    """The evaluate stage: (metric table, per-halo residual table, per-simulation table).

    ``floor_resid``: per-row residuals [dex] of the mock's noise floor
    (:func:`pipeline.discovery.noise_floor.noise_floor_residuals`), or None (real data).
    ``alternative``: (expression, features, constraint) of the equation found under the other
    slope constraint, evaluated beside as relation ``alternative``."""
    halos = halos.copy(copy_data=False)
    floor_column = None
    if floor_resid is not None:
        floor_column = "_floor_resid"
        halos[floor_column] = floor_resid
    samples = list(train_samples) + list(holdout_samples)
    relations = study_relations(halos, target, expression, features, train_samples, options,
                                floor_column, alternative)
    resid = residual_table(halos, target, relations, samples, train_samples, options.divergence_dex,
                           options.bin_column)
    metrics = evaluate_relations(resid, relations, options, train_samples, holdout_samples)
    edges = options.mass_bins
    per_sim = per_simulation_table(resid, relations, samples, (edges[0], edges[-1]),
                                   options.bin_column, options.min_halos_per_sim)
    meta = evaluation_meta(target, relations, options,
                           extrapolation_fractions(halos, relations, train_samples, samples),
                           floor_resid is not None)
    meta["expression"], meta["features_sr"] = expression, list(features)
    meta["parameter_coverage"] = [asdict(c) for c in parameter_coverage(halos, train_samples,
                                                                        holdout_samples)]
    meta["parameter_coverage_rule"] = COVERAGE_DEFINITION
    for table in (metrics, resid, per_sim):
        table.meta.update(meta)
    return metrics, resid, per_sim
