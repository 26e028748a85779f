"""The rank and evaluate tables' metadata are typed contracts (:mod:`pipeline.discovery.records`):
each record's fields are exactly the keys its stage writes."""

import numpy as np
from astropy.table import Table, vstack

from pipeline.discovery.dataset import Target
from pipeline.discovery.evaluate import EvaluateOptions, evaluate_study
from pipeline.discovery.rank import RankOptions, rank_features
from pipeline.discovery.records import EvaluateMeta, RankMeta


def test_rank_meta_is_the_record():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    y = x[:, 0] + 0.1 * rng.normal(size=200)
    table = rank_features(x, y, ["a", "b", "c"], RankOptions(n_estimators=20, folds=3, repeats=2),
                          sims=np.repeat(np.arange(10), 20).astype(str),
                          samples=np.repeat(["s1", "s2"], 100), x_rel=rng.normal(size=200))
    table.meta["target"] = {"name": "t"}
    assert set(table.meta) == set(RankMeta.keys()), set(table.meta) ^ set(RankMeta.keys())
    meta = RankMeta.from_meta(table.meta)
    assert meta.r2_cv == table.meta["r2_cv"] and meta.identify is not None
    assert all(isinstance(g, tuple) for g in meta.groups) and len(meta.r2_folds) == 3


def test_evaluate_meta_is_the_record():
    rng = np.random.default_rng(2)
    parts = []
    for suite in ("A", "B"):
        n = 120
        x = rng.uniform(-6, -4, n)
        c = rng.uniform(0.3, 0.7, n)
        parts.append(Table({"suite": [suite] * n, "sim": [f"LH_{i % 6}" for i in range(n)],
                            "snapshot": np.full(n, 90), "group_index": np.arange(n),
                            "redshift": np.zeros(n), "log10_Y200c_ss": x, "c_gas": c,
                            "log10_M200c": 0.6 * x + 17 - 0.5 * c + 0.02 * rng.normal(size=n)}))
    halos = vstack(parts)
    target = Target("M_from_Y", "log10_M200c", "log10_Y200c_ss", 0.6)
    metrics, _, _ = evaluate_study(halos, target, "17 - 0.5*c_gas", ["c_gas"], ["A"], ["B"],
                                   EvaluateOptions(mass_bins=[12.0, 13.5, 15.0], bootstrap=20))
    assert set(metrics.meta) == set(EvaluateMeta.keys()), set(metrics.meta) ^ set(EvaluateMeta.keys())
    meta = EvaluateMeta.from_meta(metrics.meta)
    assert meta.target["name"] == "M_from_Y" and meta.expression == "17 - 0.5*c_gas"
    assert meta.features_of("discovered") and meta.alternative is None
