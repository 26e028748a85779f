"""Config validation: the default is valid; every mistake names its key."""

import copy

import pytest
import yaml
from conftest import REPO

from pipeline.config import expand_simulations, load_config, validate_config
from pipeline.errors import ConfigError


@pytest.fixture
def default():
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_default_config_is_valid_and_filled(default):
    cfg = validate_config(default)
    assert cfg["sr"]["backend"] == "operon"
    assert cfg["star_forming_gas"] == "exclude"
    assert cfg["data"]["suites"]["IllustrisTNG"][:2] == ["LH_0", "LH_1"]
    assert default["data"]["suites"]["IllustrisTNG"] == ["LH_0..LH_7"]  # input untouched


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
        (lambda c: c.update(holdout_suites=["SIMBA", "IllustrisTNG"]), "holdout_suites"),
        (lambda c: c.update(train_suites=["Magneticum"]), "train_suites"),
        (lambda c: c["targets"][0].update(x="log10_Y"), "targets.0.x"),
        (lambda c: c["mock"].update(redshifts=[0.0, 0.5]), "mock.redshifts"),
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


def test_old_name_of_the_stacks_input_kind_is_read_with_a_warning(caplog):
    """``data.kind: profiles`` and the ``profiles:`` section are the stacks kind's former names."""
    cfg = yaml.safe_load((REPO / "studies/camels1p_tng_to_simba.yaml").read_text())
    cfg["data"]["kind"] = "profiles"
    cfg["profiles"] = cfg.pop("stacks")
    with caplog.at_level("WARNING"):
        out = validate_config(cfg)
    assert out["data"]["kind"] == "stacks" and out["stacks"]["min_halos"] == 10
    assert "profiles" not in out and "now called 'stacks'" in caplog.text
    cfg["stacks"] = {"min_halos": 3}
    with pytest.raises(ConfigError, match="'profiles' and 'stacks'"):
        validate_config(cfg)
