"""Trust, round 4: inputs that ran silently wrong (leakage through truth quantities and through x,
a constant target, held-out data that is the training data, a parameter file that contradicts
its snapshot, neutral fractions outside [0, 1], a key defined twice). Each is refused with a
message naming the key, file or column; docs/input_checks.md lists every check."""

import copy
import os

import numpy as np
import pytest
from astropy.table import Table
from conftest import write_sphere_halo
from test_assemble import _halo_table
from test_hi import _hi_fields

from pipeline.cli import main
from pipeline.config import load_config, read_yaml_file, validate_config
from pipeline.discovery.dataset import Target, design_matrix
from pipeline.errors import ConfigError, DataError, InputFileError
from pipeline.ingest.assemble import assemble_halos
from pipeline.ingest.particles import IngestOptions, measure_halos
from pipeline.io.tables import read_table, write_table
from pipeline.study_record import Study


@pytest.fixture
def default():
    return load_config("config.yaml")


# --- leakage: truth quantities and x -----------------------------------------------------------

@pytest.mark.parametrize("feature", ["log10_M500c", "c_NFW", "Vmax", "f_gas200c_over_fb"])
def test_a_truth_quantity_is_refused_as_a_feature_of_a_truth_target(default, feature):
    """The true M500c as a feature of M200c gave 0.019 dex held out against a 0.161 dex floor."""
    cfg = copy.deepcopy(default)
    cfg["features"] = ["log10_Y200c_ss", "c_gas", feature]
    with pytest.raises(ConfigError, match=rf"'features': feature '{feature}' of target 'M_from_Y' "
                                          r"(is a halo-finder or truth quantity|is computed from)"):
        validate_config(cfg)


def test_truth_features_are_allowed_where_the_target_says_so_and_the_report_records_it(default):
    cfg = copy.deepcopy(default)
    cfg["features"] = ["log10_Y200c_ss", "c_gas", "log10_M500c"]
    cfg["targets"][0]["allow_truth_features"] = True
    valid = validate_config(cfg)
    assert valid["targets"][0]["allow_truth_features"] is True
    from pipeline.discovery.dataset import Target
    from pipeline.report.sections import _truth_inputs

    # the template writes "Not observational: ..." with these (templates/sections.typ)
    allowed = Target.from_config(valid["targets"][0])
    assert allowed.allow_truth_features
    assert _truth_inputs(Study.from_config(valid), allowed, ["log10_M500c", "c_gas"]) == "log10_M500c"
    assert _truth_inputs(Study.from_config(default), Target.from_config(default["targets"][0]),
                         ["log10_M500c"]) == ""


def test_observable_targets_may_use_truth_quantities(default):
    """Y at fixed M: the target is an observable, M200c (and c_NFW) its inputs."""
    cfg = copy.deepcopy(default)
    cfg["targets"] = [{"name": "Y_from_M", "y": "log10_Y200c_ss", "x": "log10_M200c",
                       "slope": "5/3"}]
    cfg["features"] = ["log10_M200c", "c_gas", "c_NFW"]
    validate_config(cfg)


@pytest.mark.parametrize("x, message", [
    ("log10_Mgas200c_over_fb", r"'targets.0.x': x 'log10_Mgas200c_over_fb' of target 'G' is "
                               r"computed from \['Mgas200c'\]"),
    ("log10_Mgas200c", r"'targets.0.x': x 'log10_Mgas200c' of target 'G' is computed from "
                       r"\['Mgas200c', 'log10_Mgas200c'\]"),
])
def test_leakage_through_x_is_refused(default, x, message):
    """SR 'discovered' log10(f_b) with 0 scatter; x = y ran to the end with every scatter 0."""
    cfg = copy.deepcopy(default)
    cfg["targets"] = [{"name": "G", "y": "log10_Mgas200c", "x": x, "slope": 1}]
    cfg["features"] = ["c_gas", "Z_mw200c"]
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg)


# --- a target with nothing to explain ------------------------------------------------------------

def test_a_constant_target_is_an_error_naming_the_option_that_emptied_it():
    """catalog.galaxy_log10_mstar_min_msun: 20 made every count 0, and the study ran to a report
    with a 'discovered' equation at 0.000 dex."""
    n = 50
    table = Table({"log10_1p_N_sat_mstar20": np.zeros(n), "log10_M200c": np.linspace(12, 14, n),
                   "c_gas": np.linspace(0.2, 0.5, n)})
    target = Target("occupation", "log10_1p_N_sat_mstar20", "log10_M200c", 1.0)
    with pytest.raises(DataError, match=r"target 'occupation': log10_1p_N_sat_mstar20 takes the "
                                        r"single value 0 on all 50 training rows.*"
                                        r"catalog.galaxy_log10_mstar_min_msun"):
        design_matrix(table, ["c_gas"], target)
    table["log10_1p_N_sat_mstar20"][3] = np.log10(2.0)  # one group with a satellite: a target
    design_matrix(table, ["c_gas"], target)


# --- held-out data that is the training data ---------------------------------------------------

def test_a_held_out_root_that_links_to_the_training_root_is_refused(tmp_path):
    """The held-out stacks read through a symbolic link were 'evaluated' as held out, bias 0."""
    from conftest import write_synthetic_profiles

    root = write_synthetic_profiles(tmp_path / "stacks", suites=("TNG",), n_sims=4)
    os.symlink(root, tmp_path / "link")
    cfg = {"study": "s", "data": {"kind": "stacks", "root": str(root)},
           "samples": {"a": {"suite": "TNG", "set": "1P", "sims": ["1P_0..1P_3"], "snapshots": [24]},
                       "b": {"suite": "TNG", "set": "1P", "sims": ["1P_0..1P_3"], "snapshots": [24],
                             "root": str(tmp_path / "link")}},
           "train": ["a"], "holdout": ["b"],
           "targets": [{"name": "M", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": 0.6}],
           "features": ["log10_Y200c_ss", "c_gas"], "rank": {"top_k": 1}}
    with pytest.raises(ConfigError, match=r"in both a training and a held-out sample, e.g. "
                                          rf"\[\('TNG', '1P', '1P_0', 24.*roots, resolved: {root}"):
        validate_config(cfg)


# --- a parameter file that contradicts its snapshot ---------------------------------------------

def test_a_parameter_file_that_disagrees_with_the_snapshot_header_names_both(tmp_path):
    sel = {"log10_mass_min_msun": 12.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 50}
    path = _halo_table(tmp_path / "LH_0.h5", "C", 0.0, sim="LH_0", params=False)
    t = read_table(path)
    t.meta["snapshot_files"] = ["/data/C/LH_0/snap_090.hdf5"]
    write_table(t, path)
    params = tmp_path / "CosmoAstroSeed_C.txt"
    params.write_text("#Name Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2 seed\n"
                      "LH_0 0.45000 0.80000 1.0 1.0 1.0 1.0 1\n")
    with pytest.raises(InputFileError, match=r"parameter file .*CosmoAstroSeed_C.txt gives Omega_m "
                                             r"= 0.45 for simulation LH_0, but its snapshot "
                                             r"/data/C/LH_0/snap_090.hdf5 says Omega0 = 0.3"):
        assemble_halos([path], sel, {"C": params})
    params.write_text(params.read_text().replace("0.45000", "0.30000"))  # agrees: assembled
    assert len(assemble_halos([path], sel, {"C": params})) == 20


# --- neutral fractions outside [0, 1] -------------------------------------------------------------

@pytest.mark.parametrize("value, found", [(50.0, "50 to 50"), (-5.0, "-5 to -5")])
def test_a_neutral_fraction_outside_0_1_stops_the_ingest(tmp_path, value, found):
    """50 in 300 cells raised a halo's HI mass 22 times; -5 made it negative."""
    fields = _hi_fields(0.0)

    def hostile(n_gas, n_bg):
        out = fields(n_gas, n_bg)
        out["NeutralHydrogenAbundance"][:300] = value
        return out

    snap, cat, _ = write_sphere_halo(tmp_path, n_gas=4000, extra_gas=hostile)
    with pytest.raises(InputFileError, match=rf"snap_033.hdf5: field 'PartType0/"
                                             rf"NeutralHydrogenAbundance' has 300 of \d+ cells .*"
                                             rf"outside \[0, 1\] \(found {found}\)"):
        measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0,
                                               hi={"enabled": True, "star_forming": "stored"}))


# --- YAML keys defined twice, and a directory for a study file -----------------------------------

def test_a_key_defined_twice_names_the_key_and_both_lines(tmp_path):
    study = tmp_path / "study.yaml"
    text = open("config.yaml").read()
    study.write_text(text + "\nsr: {seeds: [0]}\n")
    line_one = text.splitlines().index(next(ln for ln in text.splitlines() if ln.startswith("sr:")))
    with pytest.raises(ConfigError, match=rf"study.yaml, line \d+: key 'sr' is defined twice in one "
                                          rf"mapping \(lines {line_one + 1} and \d+\)"):
        read_yaml_file(study)
    sample_twice = text.replace("  SIMBA:        {suite: SIMBA, sims: [LH_0..LH_5]}",
                                "  SIMBA:        {suite: SIMBA, sims: [LH_0..LH_5]}\n"
                                "  SIMBA:        {suite: SIMBA, sims: [LH_0..LH_2]}")
    study.write_text(sample_twice)
    with pytest.raises(ConfigError, match=r"key 'SIMBA' is defined twice"):
        read_yaml_file(study)


def test_run_on_a_directory_is_a_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path)]) == 1
    assert f"config file {tmp_path} is a directory" in capsys.readouterr().err


# --- the embedded default passes the project's own checks ------------------------------------------

@pytest.mark.parametrize("poor, warned", [("light", False), ("heavy", True)])
def test_quality_cuts_warn_on_unresolved_heavy_haloes_not_on_gas_poor_light_ones(
        tmp_path, caplog, poor, warned):
    """The default study warned 'under-resolved or broken output?' about its own mock (SIMBA
    LH_5, A_AGN1 = 2.8: gas-poor haloes near 10^12 Msun, the heavier ones well resolved)."""
    import logging

    path = _halo_table(tmp_path / "LH_0.h5", "SIMBA", 0.0, n=40)
    t = read_table(path)
    t["M200c"] = np.logspace(12.05, 14, 40) * t["M200c"].unit
    n_gas = np.full(40, 500)
    n_gas[:30] = 10 if poor == "light" else 500
    if poor == "heavy":
        n_gas[10:] = 10
    t["N_gas200c"] = n_gas
    write_table(t, path)
    sel = {"log10_mass_min_msun": 12.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 50}
    with caplog.at_level(logging.INFO, logger="pipeline.ingest.assemble"):
        assemble_halos([path], sel)
    warnings = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert bool([m for m in warnings if "broken output" in m]) is warned
    if not warned:
        assert any("gas-poor low-mass haloes" in r.message for r in caplog.records)


# --- mock parameters a simulation cannot be drawn from: refused before any job runs --------------

@pytest.mark.parametrize("name, bounds, message", [
    ("A_AGN1", [4.0, 0.25], r"'mock.parameter_ranges.A_AGN1': the range \[4, 0.25\] runs "
                            r"backwards; write \[0.25, 4\]"),
    ("Omega_m", [0.1, 1.5], r"'mock.parameter_ranges.Omega_m': Omega_m must lie between "
                            r"mock.omega_b = 0.049 .* and 1 .*, got \[0.1, 1.5\]"),
    ("Omega_m", [0.0, 0.3], r"Omega_m must lie between mock.omega_b"),
    ("Omega_m", [0.03, 0.3], r"Omega_m must lie between mock.omega_b = 0.049"),
    ("A_SN2", [-0.5, 2.0], r"'mock.parameter_ranges.A_SN2': \[-0.5, 2\] is drawn log-uniformly: "
                           r"both ends must be positive"),
    ("sigma_8", [0.0, 0.9], r"sigma_8 must be positive"),
])
def test_impossible_mock_parameter_ranges_are_config_errors(default, name, bounds, message):
    """They passed the check, then failed in a job with a traceback, a NaN parameter file or
    colossus's 'sigma is nan'."""
    cfg = copy.deepcopy(default)
    cfg["mock"]["parameter_ranges"] = {name: bounds}
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg)
