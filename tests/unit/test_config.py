"""Config validation: the default is valid; every mistake names its key."""

import copy

import pytest
import yaml
from conftest import REPO

from pipeline.config import expand_simulations, load_config, target_features, validate_config
from pipeline.errors import ConfigError


@pytest.fixture
def default():
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_default_config_is_valid_and_filled(default):
    cfg = validate_config(default)
    assert cfg["sr"]["backend"] == "operon"
    assert cfg["star_forming_gas"] == "exclude"
    # one sample per suite, named after it; ranges expanded, set, volume and snapshots filled
    assert cfg["samples"]["IllustrisTNG"]["sims"][:2] == ["LH_0", "LH_1"]
    assert cfg["samples"]["IllustrisTNG"] == {"suite": "IllustrisTNG", "set": "LH", "volume": "L25n256",
                                              "sims": [f"LH_{i}" for i in range(8)], "snapshots": [90],
                                              "root": "data/mock", "missing": "error"}
    assert cfg["train"] == ["IllustrisTNG", "Astrid"] and cfg["holdout"] == ["SIMBA"]
    assert cfg["sr"]["choice_data"] == "transfer" and cfg["sr"]["keep_slope"] is True
    assert default["samples"]["IllustrisTNG"]["sims"] == ["LH_0..LH_7"]  # input untouched


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c.update(rnak={"top_k": 2}), "rnak"),
        (lambda c: c["rank"].update(top_k="3"), "rank.top_k"),
        (lambda c: c["rank"].update(n_estimator=10), "n_estimator"),
        (lambda c: c["data"].update(kind="gadget"), "data.kind"),
        (lambda c: c["sr"].update(backend="eureqa"), "sr.backend"),
        (lambda c: c["evaluate"].update(mass_bins=[13.0, 12.0]), "evaluate.mass_bins"),
        (lambda c: c.update(features=["c_gas", "c_gass"]), "features"),
        (lambda c: c.update(holdout=["SIMBA", "IllustrisTNG"]), "'train' and 'holdout'"),
        (lambda c: c.update(train=["Magneticum"]), "'train'"),
        (lambda c: c["targets"][0].update(x="log10_Y"), "targets.0.x"),
        (lambda c: c["mock"].update(redshifts={88: 0.1}), "mock.redshifts"),
        (lambda c: c.pop("study"), "study"),
        (lambda c: c["rank"].update(top_k=50), "rank.top_k"),
    ],
)
def test_bad_config_names_the_key(default, mutate, key):
    cfg = copy.deepcopy(default)
    mutate(cfg)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert key in str(err.value)


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_simulation_ranges():
    assert expand_simulations(["LH_0..LH_2", "CV_5"]) == ["LH_0", "LH_1", "LH_2", "CV_5"]
    assert expand_simulations(["1P_22..24"]) == ["1P_22", "1P_23", "1P_24"]
    with pytest.raises(ConfigError, match="backwards"):
        expand_simulations(["LH_5..LH_1"])
    with pytest.raises(ConfigError, match="twice"):
        expand_simulations(["LH_0..LH_2", "LH_1"])


def test_old_names_of_the_stacks_input_kind_are_refused_with_the_new_name():
    """``data.kind: profiles`` and the ``profiles:`` section (names before 0.1.0) were read with a
    warning; now the message says what to write."""
    cfg = yaml.safe_load((REPO / "studies/camels1p_tng_to_simba.yaml").read_text())
    cfg["data"]["kind"] = "profiles"
    with pytest.raises(ConfigError, match="'data.kind'.*write 'data.kind: stacks'"):
        validate_config(cfg)
    cfg["data"]["kind"] = "stacks"
    cfg["profiles"] = cfg.pop("stacks")
    with pytest.raises(ConfigError, match="config key 'profiles'.*rename the section 'stacks:'"):
        validate_config(cfg)


def _samples_config(**samples):
    return {"study": "s", "data": {"kind": "mock", "root": "data/mock"},
            "samples": samples, "train": ["a"], "holdout": ["b"],
            "targets": [{"name": "M", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": 0.6}],
            "features": ["log10_Y200c_ss", "c_gas", "Z_mw200c"],
            "mock": {"redshifts": {90: 0.0, 89: 0.05, 88: 0.1}}}


def test_samples_are_normalized_with_ranges_expanded():
    cfg = validate_config(_samples_config(
        a={"suite": "IllustrisTNG", "set": "LH", "sims": ["LH_0..LH_3"], "snapshots": ["88..90"]},
        b={"suite": "SIMBA", "sims": ["LH_0", "LH_1"], "snapshots": [90]},
    ))
    assert cfg["samples"]["a"]["snapshots"] == [88, 89, 90]
    assert cfg["samples"]["a"]["sims"] == ["LH_0", "LH_1", "LH_2", "LH_3"]
    assert cfg["samples"]["b"] == {"suite": "SIMBA", "set": "LH", "volume": "L25n256",
                                   "sims": ["LH_0", "LH_1"], "snapshots": [90],
                                   "root": "data/mock", "missing": "error"}


@pytest.mark.parametrize("samples, extra, message", [
    # the same simulation and snapshot in a training and a held-out sample: not held out
    ({"a": {"suite": "SIMBA", "sims": ["LH_0..LH_3"], "snapshots": [88, 90]},
      "b": {"suite": "SIMBA", "sims": ["LH_3..LH_5"], "snapshots": [90]}}, {},
     r"in both a training and a held-out sample, e.g. \[\('SIMBA', 'LH', 'LH_3', 90\)\]"),
    ({"a": {"suite": "SIMBA", "sims": ["LH_0"], "snapshots": ["90..88"]},
      "b": {"suite": "Astrid", "sims": ["LH_0"]}}, {}, "samples.a.snapshots.*runs backwards"),
    ({"a": {"suite": "SIMBA", "sims": ["LH_0"]}, "b": {"suite": "Astrid", "sims": ["LH_0"]}},
     {"train_suites": ["a"]}, "the one-sample-per-suite shorthand is no longer read"),
    ({"a": {"suite": "SIMBA", "sims": ["LH_0"]}, "b": {"suite": "Astrid", "sims": ["LH_0"]}},
     {"holdout": ["c"]}, r"'holdout': \['c'\] not in samples"),
    ({"a": {"suite": "SIMBA", "sims": ["LH_0"], "snapshots": [86]},
      "b": {"suite": "Astrid", "sims": ["LH_0"]}}, {}, r"mock.redshifts.*snapshot\(s\) \[86\]"),
    ({"a": {"suite": "SIMBA", "sims": ["LH_0"], "mass_bins": ["12-13"]},
      "b": {"suite": "Astrid", "sims": ["LH_0"]}}, {}, "mass_bins' is for data.kind: stacks"),
])
def test_sample_mistakes_name_the_key(samples, extra, message):
    cfg = _samples_config(**samples)
    cfg.update(extra)
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg)


def test_the_former_shorthand_is_refused_with_the_rewrite_that_gives_the_same_tables(default):
    """Samples are declared one way; the message of the former one-sample-per-suite shorthand is
    the YAML to write instead, and that YAML validates to the same study."""
    short = copy.deepcopy(default)
    for key in ("samples", "train", "holdout"):
        short.pop(key)
    short["data"].update(suites={"IllustrisTNG": ["LH_0..LH_7"], "SIMBA": ["LH_0..LH_5"],
                                 "Astrid": ["LH_0..LH_5"]}, snapshots=[90], set="LH")
    short.update(train_suites=["IllustrisTNG", "Astrid"], holdout_suites=["SIMBA"])
    short["mock"]["redshifts"] = [0.0]
    with pytest.raises(ConfigError, match="shorthand is no longer read") as err:
        validate_config(short)
    message = str(err.value)
    assert "'data.suites'" in message and "'train_suites'" in message
    rewrite = yaml.safe_load(message.split("write:\n", 1)[1])
    for key in ("suites", "snapshots", "set"):
        short["data"].pop(key)
    for key in ("train_suites", "holdout_suites"):
        short.pop(key)
    short.update(rewrite)
    short["mock"] = {**default["mock"], **rewrite["mock"]}
    assert validate_config(short) == validate_config(default)
    # a set, volume or snapshots for every sample at once is refused as well
    default["data"]["snapshots"] = [90]
    with pytest.raises(ConfigError, match=r"\['data.snapshots'\].*samples.<name>"):
        validate_config(default)


def test_a_target_without_a_self_similar_slope(default):
    """Any column as a function of any other: slope absent (or 0) means no self-similar
    expectation, so x is a free feature of the correction unless keep_slope says otherwise."""
    cfg = copy.deepcopy(default)
    cfg["targets"] = [{"name": "Mgas_from_M", "y": "log10_Mgas200c", "x": "log10_M200c"},
                      {"name": "kept", "y": "log10_Mgas200c", "x": "log10_M200c", "slope": 0,
                       "keep_slope": True}]
    cfg["features"] = ["T_mw200c", "c_NFW", "Z_mw200c"]
    out = validate_config(cfg)
    assert [t["slope"] for t in out["targets"]] == [0.0, 0]
    assert [t["keep_slope"] for t in out["targets"]] == [False, True]
    from pipeline.discovery.dataset import Target

    assert Target.from_config({"name": "a", "y": "log10_Mgas200c", "x": "log10_M200c"}).slope == 0.0


def test_catalog_input_knows_its_columns_and_refuses_stacks(default):
    cfg = copy.deepcopy(default)
    cfg["data"]["input"] = "catalog"
    cfg["targets"] = [{"name": "m", "y": "log10_Mtot", "x": "log10_M_virial", "slope": 1,
                       "allow_truth_features": True}]
    cfg["features"] = ["Mstar_over_M_virial", "r_host_r200c", "log10_Vmax"]
    cfg["evaluate"] = {"bin_column": "log10_Mtot", "mass_bins": [10, 12, 15]}
    out = validate_config(cfg)
    assert out["catalog"] == {"rows": "subhalos", "log10_mass_min_msun": 9.0, "min_particles": 50,
                              "centrals_only": False, "galaxy_log10_mstar_min_msun": []}
    bad = copy.deepcopy(cfg)
    bad["features"] = ["c_gas"]  # a particle-ingest column: catalog rows have none
    with pytest.raises(ConfigError, match=r"'features': unknown column\(s\) \['c_gas'\]"):
        validate_config(bad)
    bad = copy.deepcopy(cfg)
    bad["evaluate"]["bin_column"] = "log10_M200c"  # subhalo rows: no M200c of their own
    with pytest.raises(ConfigError, match="evaluate.bin_column"):
        validate_config(bad)
    bad = copy.deepcopy(cfg)
    bad["catalog"] = {"rows": "galaxies"}
    with pytest.raises(ConfigError, match="catalog.rows"):
        validate_config(bad)


# --- one source of defaults, the method's defaults -----------------------------------------------

def _option_classes():
    from pipeline.columns.environment import EnvironmentOptions
    from pipeline.discovery.evaluate import EvaluateOptions
    from pipeline.discovery.rank import RankOptions
    from pipeline.discovery.sr.search import SROptions
    from pipeline.ingest.catalog import CatalogOptions
    from pipeline.ingest.particles import HIOptions, IngestOptions
    from pipeline.ingest.stacks import StackOptions
    from pipeline.mock.simulate import MockOptions
    from pipeline.mock.subhalos import Occupation
    from pipeline.particles.shells import ProfileOptions

    return [(SROptions, ("sr",)), (RankOptions, ("rank",)), (EvaluateOptions, ("evaluate",)),
            (IngestOptions, ("ingest",)), (EnvironmentOptions, ("ingest", "environment")),
            (CatalogOptions, ("catalog",)), (StackOptions, ("stacks",)), (MockOptions, ("mock",)),
            (ProfileOptions, ("radial_profiles",)), (HIOptions, ("ingest", "hi")),
            (Occupation, ("mock", "occupation"))]


@pytest.mark.parametrize("cls, path", _option_classes(), ids=lambda v: getattr(v, "__name__", ""))
def test_stage_options_take_their_defaults_from_the_schema(cls, path):
    """The dataclasses repeat no default (threads was 2 in the schema and 1 in three of them)."""
    import dataclasses

    from pipeline.defaults import section_defaults

    schema = section_defaults(*path)
    made = cls()
    checked = 0
    for f in dataclasses.fields(cls):
        if f.name in schema and f.name not in ("environment", "hi"):  # nested: own classes
            value = getattr(made, f.name)
            assert (list(value) if isinstance(value, tuple) else value) == schema[f.name], f.name
            checked += 1
    assert checked >= min(3, len(schema))
    source = __import__("inspect").getsource(cls)
    assert "@schema_defaults(" in source


def test_a_field_without_any_default_is_refused_at_import():
    from dataclasses import dataclass

    from pipeline.defaults import schema_defaults

    with pytest.raises(TypeError, match=r"Nope\.not_an_option: no default.*'sr\.not_an_option'"):
        @dataclass(frozen=True)
        @schema_defaults("sr")
        class Nope:
            not_an_option: int


def test_the_method_is_the_default(default):
    """Choice by transfer and validation by simulation are what a new study gets."""
    from pipeline.discovery.sr.search import SROptions

    for key in ("validation_groups", "choice_data"):
        default["sr"].pop(key, None)
    sr = validate_config(default)["sr"]
    assert sr["validation_groups"] == "sim" and sr["choice_data"] == "transfer"
    assert SROptions().validation_groups == "sim" and SROptions().choice_data == "transfer"


def test_features_per_target_need_no_study_list(default):
    default.pop("features")
    with pytest.raises(ConfigError, match="config key 'features' is missing: target.*'M_from_Y'"):
        validate_config(default)
    default["targets"][0]["features"] = ["c_gas", "Z_mw200c"]
    default["rank"]["top_k"] = 2
    out = validate_config(default)
    assert "features" not in out and target_features(out, out["targets"][0]) == ["c_gas", "Z_mw200c"]


@pytest.mark.parametrize("feature, shared", [("f_gas200c", "M200c"), ("c_NFW", "M200c"),
                                             ("R200c", "M200c")])
def test_a_feature_computed_from_the_target_is_refused(default, feature, shared):
    """Leakage guard: f_gas200c = Mgas200c / M200c (and c_NFW from V200c) carry M200c, the
    quantity M given Y predicts; the message names the feature, the target and the input."""
    default["features"] = ["log10_Y200c_ss", "c_gas", feature]
    with pytest.raises(ConfigError, match=rf"feature '{feature}' of target 'M_from_Y' is computed "
                                          rf"from \['{shared}'\], which the target predicts"):
        validate_config(default)


def test_the_leakage_guard_allows_what_describes_the_simulation(default):
    """Y given M may use redshift and the simulation parameters (log10_Y200c_ss is computed with
    E(z), which depends on them) and gas quantities not computed from Y; f_gas200c is fine there.
    Y500c_over_Y200c is not: it divides by Y200c."""
    default["targets"] = [{"name": "Y_from_M", "y": "log10_Y200c_ss", "x": "log10_M200c",
                           "slope": "5/3"}]
    default["features"] = ["log10_M200c", "redshift", "Omega_m", "f_gas200c", "c_NFW"]
    validate_config(default)
    default["features"].append("Y500c_over_Y200c")
    with pytest.raises(ConfigError, match=r"'Y500c_over_Y200c' of target 'Y_from_M' is computed "
                                          r"from \['Y200c'\]"):
        validate_config(default)


@pytest.mark.parametrize("slope, value", [("5/3", 5 / 3), (" 3 / 5 ", 0.6), (0.6, 0.6), ("-1/2", -0.5)])
def test_slopes_as_exact_fractions(default, slope, value):
    default["targets"][0]["slope"] = slope
    assert validate_config(default)["targets"][0]["slope"] == value


@pytest.mark.parametrize("slope, message", [("five thirds", "targets.0.slope"),
                                            ("5/0", "divides by zero")])
def test_a_slope_that_is_no_number_names_the_key(default, slope, message):
    default["targets"][0]["slope"] = slope
    with pytest.raises(ConfigError, match=message):
        validate_config(default)


def test_the_docs_study_files_are_valid(tmp_path):
    """The study files the tutorial and the input page show pass the configuration check (the
    particle one's data.root replaced: the check reads its parameter files where they exist)."""
    import yaml
    from conftest import REPO

    for path in sorted((REPO / "docs" / "tutorial_files").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        if raw["data"]["kind"] == "camels":
            raw["data"]["root"] = str(tmp_path)
        validated = validate_config(raw)
        for sample in validated["samples"].values():
            assert sample["snapshots"], path
    particles = validate_config({**yaml.safe_load(
        (REPO / "docs/tutorial_files/camels_particles_study.yaml").read_text()),
        "data": {"kind": "camels", "root": str(tmp_path), "layout": "camels2024"}})
    assert particles["samples"]["tng"]["snapshots"] == [90]  # z = 0 in the 2024 numbering
