"""The evaluation protocol: metric definitions against known numbers, the paired cluster bootstrap
over simulations, divergence and extrapolation, and every relation through one path."""

import numpy as np
import pytest
from astropy.table import Table, vstack
from conftest import BY_HALO

from pipeline.discovery.dataset import Target
from pipeline.discovery.evaluate import (
    EvaluateOptions,
    evaluate_relations,
    evaluate_study,
    residual_table,
)
from pipeline.discovery.metrics import METRICS, cluster_sums, metrics_from_sums
from pipeline.discovery.relations import (
    baseline_relation,
    discovered_relation,
    fit_published_form,
)

TARGET = Target("M_from_Y", "log10_M200c", "log10_Y200c_ss", 0.6)


def _metrics(r):
    return {k: float(v) for k, v in
            metrics_from_sums(cluster_sums(r, np.zeros(len(r), dtype=int), 1).total()).items()}


def test_pure_offset_changes_bias_and_rms_only():
    r = 0.1 * np.random.default_rng(0).normal(size=5000)
    before, after = _metrics(r), _metrics(r + 0.2)
    assert after["scatter_log"] == pytest.approx(before["scatter_log"], rel=1e-9)
    assert after["scatter_frac"] == pytest.approx(before["scatter_frac"], rel=1e-9)
    assert after["bias_log"] == pytest.approx(before["bias_log"] + 0.2, abs=1e-12)
    assert after["rms_log"] == pytest.approx(np.sqrt(np.mean((r + 0.2) ** 2)), rel=1e-9)
    assert after["rms_log"] > 2 * before["rms_log"]


def test_known_gaussian_residuals_give_the_known_numbers():
    sigma, mu = 0.1, 0.05
    r = mu + sigma * np.random.default_rng(1).normal(size=400_000)
    m = _metrics(r)
    assert m["bias_log"] == pytest.approx(mu, abs=1e-3)
    assert m["scatter_log"] == pytest.approx(sigma, rel=0.01)
    assert m["rms_log"] == pytest.approx(np.hypot(mu, sigma), rel=0.01)
    # 10^r is log-normal: std/mean = sqrt(exp((sigma ln 10)^2) - 1), whatever the offset
    assert m["scatter_frac"] == pytest.approx(np.sqrt(np.expm1((sigma * np.log(10)) ** 2)), rel=0.01)
    # and the sums agree with numpy's own estimators
    assert m["scatter_log"] == pytest.approx(np.std(r, ddof=1), rel=1e-9)
    q = 10.0**r
    assert m["scatter_frac"] == pytest.approx(np.std(q, ddof=1) / np.mean(q), rel=1e-9)


def _resid_table(residuals: dict[str, np.ndarray], sims, suite="B", masses=None) -> Table:
    n = len(next(iter(residuals.values())))
    t = Table({"sample": [suite] * n, "suite": [suite] * n, "sim": np.asarray(sims).astype(str),
               "sim_id": np.asarray(sims).astype(str),
               "log10_M200c": np.full(n, 12.5) if masses is None else masses, "role": ["holdout"] * n})
    for name, r in residuals.items():
        t[f"resid_{name}"] = r
        t[f"diverged_{name}"] = ~np.isfinite(r)
    return t


class _Named:
    def __init__(self, name):
        self.name = name
        self.features = ()


def test_cluster_bootstrap_is_wider_than_the_halo_bootstrap_when_a_simulation_shares_an_offset():
    """Haloes of a simulation share its offset (its feedback parameters): 12 simulations of 150
    haloes. Resampling haloes treats 1800 draws as independent and is far too narrow."""
    rng = np.random.default_rng(2)
    sims = np.repeat(np.arange(12), 150)
    offset = rng.normal(0, 0.1, 12)[sims]
    base = offset + 0.05 * rng.normal(size=len(sims))
    disc = 0.5 * offset + 0.05 * rng.normal(size=len(sims))
    resid = _resid_table({"baseline": base, "discovered": disc}, sims)
    rels = [_Named("baseline"), _Named("discovered")]
    width = {}
    for unit, min_sims in (("sim", 5), ("halo", 100)):
        ev = evaluate_relations(resid, rels, EvaluateOptions(mass_bins=[12.0, 13.0], bootstrap=400,
                                                             min_sims_for_cluster_bootstrap=min_sims),
                                [], ["B"])
        row = ev[(ev["bin"] == "all") & (ev["relation"] == "discovered")][0]
        assert str(row["resample_unit"]).startswith(unit)
        assert row["scatter_log_lo95"] <= row["scatter_log_lo68"] <= row["scatter_log"]
        assert row["scatter_log"] <= row["scatter_log_hi68"] <= row["scatter_log_hi95"]
        width[unit] = (row["scatter_log_hi68"] - row["scatter_log_lo68"],
                       row["reduction_log_hi68"] - row["reduction_log_lo68"])
    assert width["sim"][0] > 2 * width["halo"][0]
    assert width["sim"][1] > 2 * width["halo"][1]
    assert ev.meta["resample_unit"].startswith("halo (12 simulation(s) < 100)")


def test_paired_reduction_is_tighter_than_unpaired_scatters():
    """Baseline and relation share most of their residual: resampling both with the same draws
    gives a reduction interval much narrower than the scatters' intervals would suggest."""
    rng = np.random.default_rng(3)
    sims = np.repeat(np.arange(20), 50)
    common = rng.normal(0, 0.1, len(sims)) * rng.uniform(0.5, 2.0, 20)[sims]
    resid = _resid_table({"baseline": common + 0.03 * rng.normal(size=len(sims)),
                          "discovered": 0.8 * common}, sims)
    ev = evaluate_relations(resid, [_Named("baseline"), _Named("discovered")],
                            EvaluateOptions(mass_bins=[12.0, 13.0], bootstrap=300), [], ["B"])
    row = ev[(ev["bin"] == "all") & (ev["relation"] == "discovered")][0]
    rel_width = (row["scatter_log_hi68"] - row["scatter_log_lo68"]) / row["scatter_log"]
    assert row["reduction_log_hi68"] - row["reduction_log_lo68"] < 0.5 * rel_width


def _suite(rng, name, n, n_sims=6, c_range=(0.3, 0.7), shift=0.0):
    x = rng.uniform(-6, -4, n)
    c = rng.uniform(*c_range, n)
    y = 0.6 * x + 17.0 - 0.5 * c + shift + 0.01 * rng.normal(size=n)
    return Table({"suite": [name] * n, "sim": [f"LH_{i % n_sims}" for i in range(n)],
                  "snapshot": np.full(n, 90), "group_index": np.arange(n), "log10_Y200c_ss": x,
                  "c_gas": c, "log10_M200c": y})


def test_evaluate_study_planted_relation_and_the_table_contract():
    rng = np.random.default_rng(5)
    halos = vstack([_suite(rng, "A", 600), _suite(rng, "B", 400, shift=0.05)])
    edges = [12.0, 13.5, 13.8, 15.0]
    metrics, resid, per_sim = evaluate_study(
        halos, TARGET, "17.0 - 0.5*c_gas", ["c_gas"], ["A"], ["B"],
        EvaluateOptions(mass_bins=edges, bootstrap=200, min_halos_per_bin=5))
    assert metrics.meta["resample_unit"] == "sim"
    for m in (*METRICS, "n_diverged"):
        assert m in metrics.colnames
    for m in ("scatter_log", "scatter_frac", "reduction_log", "reduction_frac"):
        for s in ("_lo68", "_hi68", "_lo95", "_hi95"):
            assert m + s in metrics.colnames
    assert {"baseline", "discovered", "blackbox", "published"} == set(metrics["relation"])
    row = metrics[(metrics["sample"] == "B") & (metrics["bin"] == "all")
                  & (metrics["relation"] == "discovered")][0]
    # the fractions within 0.1 / 0.2 dex, as trained: residuals -0.05 +- 0.01 dex, all inside
    r = np.asarray(resid["resid_discovered"])[np.asarray(resid["sample"]) == "B"]
    assert row["frac_within_0p1dex"] == pytest.approx(np.mean(np.abs(r) <= 0.1)) == 1.0
    assert row["frac_within_0p2dex_lo95"] <= row["frac_within_0p2dex"] <= row["frac_within_0p2dex_hi95"]
    assert row["scatter_log"] == pytest.approx(0.01, rel=0.15)
    assert row["bias_log"] == pytest.approx(-0.05, abs=0.005)  # the offset shows as bias ...
    assert row["rms_log"] == pytest.approx(np.hypot(0.05, 0.01), rel=0.1)  # ... and in the rms
    assert row["reduction_log_lo95"] > 0.7 and row["n_diverged"] == 0
    base = metrics[(metrics["sample"] == "B") & (metrics["bin"] == "all")
                   & (metrics["relation"] == "baseline")][0]
    assert base["scatter_log"] > 0.05
    # the black box learns the same correction from the same feature
    box = metrics[(metrics["sample"] == "B") & (metrics["bin"] == "all")
                  & (metrics["relation"] == "blackbox")][0]
    assert box["scatter_log"] < 0.5 * base["scatter_log"]
    # per simulation: every held-out simulation, each relation
    held = per_sim[(per_sim["sample"] == "B") & (per_sim["relation"] == "discovered")]
    assert len(held) == 6 and np.all(held["reduction_log"] > 0.5)
    assert set(resid.colnames) >= {"resid_baseline", "diverged_discovered", "extrap_discovered"}


def test_within_fractions_count_diverged_haloes_as_outside_and_resample_simulations():
    from pipeline.discovery.metrics import resample_counts, within_fractions

    r = np.array([0.05, -0.15, 0.3, 0.0, 0.19, 0.0])
    scored = np.array([True, True, True, True, True, False])  # the last one diverged
    cluster = np.array([0, 0, 1, 1, 2, 2])
    counts = np.array([[3, 0, 0], [0, 3, 0], [1, 1, 1]])
    out = within_fractions(r, scored, cluster, 3, counts)
    value, draws = out["frac_within_0p1dex"]
    assert value == pytest.approx(2 / 6)  # 0.05 and 0.0: the diverged 0.0 is outside
    np.testing.assert_allclose(draws, [1 / 2, 1 / 2, 2 / 6])
    value, draws = out["frac_within_0p2dex"]
    assert value == pytest.approx(4 / 6)
    np.testing.assert_allclose(draws, [1.0, 1 / 2, 4 / 6])
    assert resample_counts(3, 4, np.random.default_rng(0)).sum(axis=1).tolist() == [3] * 4


def test_a_pole_inside_the_held_out_range_is_counted_as_diverged():
    """Trained where c_gas < 0.7, the relation has a pole at c_gas = 0.75; the held-out suite
    reaches 0.9. Haloes near the pole (finite but absurd predictions) count as diverged, are
    left out of the metrics and named in the summary."""
    from pipeline.report.sections import summary_sentences

    rng = np.random.default_rng(6)
    held_out = _suite(rng, "B", 400, c_range=(0.3, 0.9))
    halos = vstack([_suite(rng, "A", 600), held_out])
    expression = "17.0 - 0.5*c_gas + 0.02/(0.75 - c_gas)"
    metrics, resid, _ = evaluate_study(halos, TARGET, expression, ["c_gas"], ["A"], ["B"],
                                       EvaluateOptions(mass_bins=[12.0, 15.0], bootstrap=100,
                                                       blackbox=False))
    row = metrics[(metrics["sample"] == "B") & (metrics["bin"] == "all")
                  & (metrics["relation"] == "discovered")][0]
    c = np.asarray(held_out["c_gas"])
    expected = np.abs(0.02 / (0.75 - c)) > 1.0  # |correction| > 1 dex (noise: 0.01 dex)
    assert expected.sum() >= 10 and abs(row["n_diverged"] - expected.sum()) <= 2
    assert np.isfinite(row["scatter_log"]) and row["scatter_log"] < 0.5
    # extrapolation: the fraction of held-out haloes beyond the training c_gas range
    train = halos[halos["suite"] == "A"]
    outside = np.zeros(len(held_out), dtype=bool)
    for f in ("c_gas", "log10_Y200c_ss"):
        v = np.asarray(held_out[f])
        outside |= (v < np.min(train[f])) | (v > np.max(train[f]))
    assert row["extrap_frac"] == pytest.approx(np.mean(outside), abs=1e-9)
    c_out = (c < np.min(train["c_gas"])) | (c > np.max(train["c_gas"]))
    assert metrics.meta["extrapolation"]["B"]["c_gas"] == pytest.approx(np.mean(c_out))
    assert np.mean(c_out) > 0.25
    text = " ".join(summary_sentences(metrics, ["B"]))
    assert f"DIVERGES on {row['n_diverged']} of" in text and "outside the training range" in text


def test_fewer_than_five_simulations_resample_haloes_and_say_so():
    rng = np.random.default_rng(7)
    halos = vstack([_suite(rng, "A", 300), _suite(rng, "B", 200, n_sims=3)])
    metrics, _, _ = evaluate_study(halos, TARGET, "17.0 - 0.5*c_gas", ["c_gas"], ["A"], ["B"],
                                   EvaluateOptions(mass_bins=[12.0, 15.0], bootstrap=50,
                                                   blackbox=False))
    units = set(metrics["resample_unit"][metrics["sample"] == "B"])
    assert units == {"halo (3 simulation(s) < 5)"}
    assert set(metrics["resample_unit"][metrics["sample"] == "A"]) == {"sim"}
    assert "halo (3 simulation(s) < 5)" in metrics.meta["resample_unit"]


def test_sparse_bin_gives_nan_not_crash():
    rng = np.random.default_rng(8)
    halos = _suite(rng, "A", 100)
    metrics, _, _ = evaluate_study(halos, TARGET, "17.0 - 0.5*c_gas", ["c_gas"], ["A"], [],
                                   EvaluateOptions(mass_bins=[0.0, 1.0, 30.0], bootstrap=20,
                                                   blackbox=False))
    empty = metrics[metrics["log10_M_hi"] == 1.0]
    assert np.all(empty["n_halos"] == 0) and np.all(np.isnan(empty["scatter_log"]))


def test_evaluation_is_reproducible_to_the_bit():
    rng = np.random.default_rng(9)
    halos = vstack([_suite(rng, "A", 400), _suite(rng, "B", 300)])
    args = (halos, TARGET, "17.0 - 0.5*c_gas", ["c_gas"], ["A"], ["B"],
            EvaluateOptions(mass_bins=[12.0, 15.0], bootstrap=100, threads=2))
    first, second = evaluate_study(*args), evaluate_study(*args)
    for a, b in zip(first, second, strict=True):
        for c in a.colnames:
            assert np.array_equal(np.asarray(a[c]), np.asarray(b[c])), c


def test_published_form_is_fitted_on_training_suites_and_scored_on_held_out():
    """Haloes that follow M ∝ Y^{3/5} (1 - 0.6 c_gas): the published form fitted on suite A
    recovers A = 0.6 and leaves only the planted 0.01 dex on suite B."""
    rng = np.random.default_rng(10)

    def suite(name, n):
        x = rng.uniform(-6, -4, n)
        c = rng.uniform(0.2, 0.8, n)
        y = 0.6 * x + 17.0 + np.log10(1 - 0.6 * c) + 0.01 * rng.normal(size=n)
        return Table({"suite": [name] * n, "sim": [f"LH_{i % 6}" for i in range(n)],
                      "log10_M200c": y, "log10_Y200c_ss": x, "c_gas": c})

    halos = vstack([suite("A", 500), suite("B", 300)])
    a, b = fit_published_form(halos[halos["suite"] == "A"], TARGET)
    assert a == pytest.approx(0.6, abs=0.02) and b == pytest.approx(17.0, abs=0.01)
    metrics, _, _ = evaluate_study(halos, TARGET, "17.0 + 0*c_gas", ["c_gas"], ["A"], ["B"],
                                   EvaluateOptions(mass_bins=[10.0, 20.0], bootstrap=100))
    sel = (metrics["sample"] == "B") & (metrics["bin"] == "all")
    pub = metrics[sel & (metrics["relation"] == "published")][0]
    base = metrics[sel & (metrics["relation"] == "baseline")][0]
    assert pub["scatter_log"] == pytest.approx(0.01, rel=0.2)
    assert pub["scatter_log_lo68"] <= pub["scatter_log"] <= pub["scatter_log_hi68"]
    assert base["scatter_log"] > 5 * pub["scatter_log"]
    assert "Wadekar" in metrics.meta["relations"]["published"]
    assert metrics.meta["fitted"]["published"]["A"] == pytest.approx(a)


def test_noise_floor_from_latent_properties_is_what_the_relation_cannot_remove():
    """Planted: y = 0.6 x + 0.3 latent + measurement noise (0.02 dex). Given the latent property
    the floor is the measurement noise; a relation that misses the latent sits well above it."""
    from pipeline.discovery.noise_floor import LATENT_COLUMNS, noise_floor_residuals
    from pipeline.errors import DataError

    rng = np.random.default_rng(8)
    n = 600
    x = rng.uniform(-6, -4, n)
    latent = rng.normal(0, 0.3, n)
    y = 0.6 * x + 17.0 + 0.3 * latent + 0.02 * rng.normal(size=n)
    sims = [f"LH_{i % 6}" for i in range(n)]
    halos = Table({"suite": ["A"] * n, "sim": sims, "snapshot": np.full(n, 90),
                   "group_index": np.arange(n), "log10_M200c": y, "log10_Y200c_ss": x})
    truths = []
    for s in sorted(set(sims)):
        rows = np.flatnonzero(np.asarray(sims) == s)
        truth = Table({"group_index": rows, "M200c": np.full(len(rows), 1e13)},
                      meta={"suite": "A", "sim": s, "snapshot": 90})
        for c in LATENT_COLUMNS:
            truth[c] = rng.uniform(0.5, 1.5, len(rows)) * (1e12 if c in ("Mgas200c", "Mstar200c") else 1.0)
        truth["nonthermal_fraction_r200"] = latent[rows]
        truths.append(truth)
    floor = noise_floor_residuals(halos, truths, TARGET)
    assert np.isfinite(floor).all()
    assert np.std(floor) == pytest.approx(0.02, rel=0.35)
    metrics, _, _ = evaluate_study(halos, TARGET, "17.0 + 0*log10_Y200c_ss", ["log10_Y200c_ss"],
                                   ["A"], [], EvaluateOptions(mass_bins=[10.0, 20.0], bootstrap=50,
                                                              blackbox=False), floor)
    sel = metrics["bin"] == "all"
    row_floor = metrics[sel & (metrics["relation"] == "floor")][0]
    row_disc = metrics[sel & (metrics["relation"] == "discovered")][0]
    assert row_floor["scatter_log"] == pytest.approx(np.std(floor, ddof=1), rel=1e-9)
    assert row_disc["scatter_log"] > 3 * row_floor["scatter_log"]  # the latent's 0.09 dex remains
    missing = truths[0].copy()
    del missing["c200c"]
    with pytest.raises(DataError, match="c200c"):
        noise_floor_residuals(halos, [missing], TARGET)


def test_relations_share_one_interface():
    rng = np.random.default_rng(11)
    halos = _suite(rng, "A", 200)
    base = baseline_relation(halos, TARGET)
    disc = discovered_relation(TARGET, "17.0 - 0.5*c_gas", ["c_gas"])
    for rel in (base, disc):
        pred = rel.predict(halos)
        assert pred.shape == (len(halos),) and np.isfinite(pred).all()
    resid = residual_table(halos, TARGET, [base, disc], ["A"], ["A"], 1.0)
    assert np.allclose(resid["resid_discovered"], disc.predict(halos) - halos["log10_M200c"])
    assert resid.meta["relations"]["baseline"].startswith("self-similar")


def test_non_finite_predictions_are_diverged_counted_and_logged(caplog):
    """A relation that leaves its domain on a held-out suite (sqrt of a negative c_gas there)."""
    rng = np.random.default_rng(12)
    held_out = _suite(rng, "B", 300)
    held_out["c_gas"][:40] = -0.1
    halos = vstack([_suite(rng, "A", 300), held_out])
    with caplog.at_level("WARNING"):
        metrics, resid, _ = evaluate_study(halos, TARGET, "17.0 - 0.7*sqrt(c_gas)", ["c_gas"], ["A"],
                                           ["B"], EvaluateOptions(mass_bins=[0.0, 30.0], bootstrap=20,
                                                                  blackbox=False))
    disc = metrics[metrics["relation"] == "discovered"]
    assert np.all(disc[disc["sample"] == "B"]["n_diverged"] == 40)
    assert np.all(disc[disc["sample"] == "B"]["n_halos"] == 300)
    assert np.all(disc[disc["sample"] == "A"]["n_diverged"] == 0)
    assert "relation discovered diverges on 40 of 300 haloes" in caplog.text
    assert int(np.sum(resid["diverged_discovered"])) == 40


def test_no_selected_feature_gives_the_constant_relation_end_to_end():
    """When the ranking selects nothing, SR returns the constant model and evaluation runs
    without a black box: the discovered relation is the baseline's form."""
    from pipeline.discovery.sr.search import SROptions, discover

    rng = np.random.default_rng(13)
    halos = vstack([_suite(rng, "A", 300), _suite(rng, "B", 200)])
    train = halos[halos["suite"] == "A"]
    sr = discover(np.empty((len(train), 0)), TARGET.residual(train), [],
                  SROptions(**BY_HALO, generations=2, seeds=[0]))
    assert list(sr.meta["features"]) == [] and sr["chosen"].sum() == 1
    metrics, _, _ = evaluate_study(halos, TARGET, sr.meta["chosen"], [], ["A"], ["B"],
                                   EvaluateOptions(mass_bins=[12.0, 15.0], bootstrap=20))
    assert "blackbox" not in set(metrics["relation"])
    sel = (metrics["sample"] == "B") & (metrics["bin"] == "all")
    base = metrics[sel & (metrics["relation"] == "baseline")][0]
    disc = metrics[sel & (metrics["relation"] == "discovered")][0]
    assert disc["scatter_log"] == pytest.approx(base["scatter_log"], rel=1e-9)


def test_docs_page_of_the_definitions_is_in_sync():
    from conftest import REPO

    from pipeline.discovery.definitions import definitions_markdown

    assert (REPO / "docs" / "evaluation.md").read_text() == definitions_markdown()
