"""Sample-identifying features (pipeline.discovery.identifying) on a planted decoy."""

import numpy as np

from pipeline.discovery.identifying import sample_identification
from pipeline.discovery.rank import RankOptions, rank_features


def _planted(n_sims=20, per_sim=30, seed=0):
    """Two training samples ('tng', 'simba') whose residual at fixed x differs by an offset.
    The decoy is the sample label plus noise (it identifies the sample at fixed x and carries
    its offset); 'physical' drives the residual the same way in both samples."""
    rng = np.random.default_rng(seed)
    n = 2 * n_sims * per_sim
    samples = np.repeat(["tng", "simba"], n_sims * per_sim)
    sims = np.array([f"{s}-{i // per_sim}" for s, i in zip(samples, np.tile(np.arange(n_sims * per_sim), 2),
                                                            strict=True)])
    x = rng.uniform(12, 14, n)
    physical = rng.normal(0, 1, n)
    decoy = (samples == "tng") + 0.3 * rng.normal(0, 1, n)
    noise = rng.normal(0, 0.5, n)
    y = 0.3 * physical + 0.25 * (samples == "tng") + 0.05 * noise
    return x, y, physical, decoy, noise, samples, sims


def test_the_decoy_is_flagged_and_the_physical_feature_is_not():
    x, y, physical, decoy, noise, samples, sims = _planted()
    scores = sample_identification(x, np.column_stack([physical, decoy, noise]),
                                   ["physical", "decoy", "noise"], samples, sims, seed=0)
    assert scores["decoy"] > 0.95  # label + noise of 0.3: the samples barely overlap
    assert scores["physical"] < 0.1 and scores["noise"] < 0.1


def test_identification_is_at_fixed_x():
    """A feature that differs between the samples only because their x ranges differ (f = x)
    identifies nothing at fixed x; one with an offset at every x does."""
    rng = np.random.default_rng(1)
    n = 600
    samples = np.repeat(["a", "b"], n // 2)
    sims = np.array([f"{s}{i % 10}" for i, s in enumerate(samples)])
    x = np.where(samples == "a", rng.uniform(12, 13, n), rng.uniform(12.5, 14, n))
    through_x = 0.5 * x + 0.05 * rng.normal(size=n)
    offset = 0.5 * x + 0.2 * (samples == "a") + 0.05 * rng.normal(size=n)
    scores = sample_identification(x, np.column_stack([through_x, offset]),
                                   ["through_x", "offset"], samples, sims)
    # where only one sample has haloes the cubic follows it: part of the offset is absorbed
    assert scores["through_x"] < 0.15 and scores["offset"] > 0.5


def test_rank_flags_the_decoy_and_selects_around_it():
    """The forest finds both the physical feature and the decoy important (the decoy carries the
    sample offset); with sample_identifying: exclude the decoy is flagged and not selected,
    with keep it is flagged and selected."""
    x, y, physical, decoy, noise, samples, sims = _planted()
    features = np.column_stack([x, physical, decoy, noise])
    names = ["x", "physical", "decoy", "noise"]
    common = dict(n_estimators=40, top_k=2, repeats=2, folds=4, seed=0, threads=1,
                  identify_threshold=0.5)
    for rule, decoy_selected in (("exclude", False), ("keep", True)):
        table = rank_features(features, y, names, RankOptions(**common, sample_identifying=rule),
                              ungrouped=["x"], sims=sims, samples=samples, x_rel=x)
        row = {str(r["feature"]): r for r in table}
        assert row["decoy"]["identifies_sample"] and not row["physical"]["identifies_sample"]
        assert bool(row["decoy"]["selected"]) is decoy_selected
        assert row["physical"]["selected"]
        assert table.meta["identify"]["flagged"] == ["decoy"]
    # one training sample: no score, no flag
    one = samples == "tng"
    table = rank_features(features[one], y[one], names, RankOptions(**common), ungrouped=["x"],
                          sims=sims[one], samples=samples[one], x_rel=x[one])
    assert "identifies_sample" not in table.colnames
