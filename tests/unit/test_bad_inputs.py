"""Bad inputs that used to pass silently (or crash naming nothing): each stops with a message
naming the file or config key and what was expected, and leaves no output behind. The physics
fixes of the same review (wind cells, star-forming gas, catalog from another run) are here too.
docs/input_checks.md lists every check."""

import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from astropy.table import Table, vstack
from conftest import REPO, write_sphere_halo

from pipeline.cli import main
from pipeline.config import validate_config
from pipeline.errors import ConfigError, DataError, InputFileError
from pipeline.ingest.particles import IngestOptions, measure_halos


def _set(path: Path, key: str, row: int, value: float, column: int | None = None) -> None:
    with h5py.File(path, "r+") as fh:
        data = fh[key][...]
        if column is None:
            data[row] = value
        else:
            data[row, column] = value
        fh[key][...] = data


def _ingest_cli(snap: Path, cat: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["ingest", "--snapshot", str(snap), "--catalog", str(cat), "--suite", "S",
                 "--sim", "LH_0", "--snap", "33", "--options", '{"log10_mass_min_msun": 10.0}',
                 "--out", str(out)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("key, row, column, value", [
    ("PartType0/Coordinates", 7, 1, np.nan),   # a particle silently dropped before
    ("PartType0/Masses", 3, None, np.inf),
    ("PartType0/Masses", 11, None, np.nan),    # NaN gas mass in the halo: its Y was NaN, then cut
    ("PartType0/InternalEnergy", 5, None, np.nan),
    ("PartType1/Coordinates", 2, 0, np.nan),
    ("PartType4/Coordinates", 0, 2, np.inf),
])
def test_non_finite_particles_stop_ingest_naming_file_and_dataset(tmp_path, capsys, key, row,
                                                                    column, value):
    snap, cat, _ = write_sphere_halo(tmp_path)
    _set(snap, key, row, value, column)
    out = tmp_path / "out.h5"
    code, err = _ingest_cli(snap, cat, out, capsys)
    assert code == 1
    assert str(snap) in err and f"'{key}'" in err and "NaN/inf" in err and f"[{row}]" in err
    assert not out.exists() and not list(tmp_path.glob(".out.h5*"))


@pytest.mark.parametrize("key, column", [("Group/GroupPos", 0), ("Group/Group_M_Crit200", None),
                                         ("Group/Group_R_Crit200", None)])
def test_non_finite_catalog_fields_stop_ingest(tmp_path, capsys, key, column):
    """A NaN position used to measure an empty halo; a NaN mass skipped the halo."""
    snap, cat, _ = write_sphere_halo(tmp_path)
    _set(cat, key, 0, np.nan, column)
    out = tmp_path / "out.h5"
    code, err = _ingest_cli(snap, cat, out, capsys)
    assert code == 1 and str(cat) in err and f"'{key}'" in err and not out.exists()


def test_non_finite_gas_stops_the_profile_stage_naming_the_file(tmp_path, capsys):
    """It raised scipy's 'data must be finite' naming no file."""
    snap, cat, _ = write_sphere_halo(tmp_path)
    _set(snap, "PartType0/Coordinates", 4, np.nan, 0)
    out = tmp_path / "prof.h5"
    code = main(["radial-profiles", "--snapshot", str(snap), "--catalog", str(cat), "--suite", "S",
                 "--sim", "LH_0", "--snap", "33", "--options", "{}", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and str(snap) in err and "PartType0/Coordinates" in err and not out.exists()


def test_catalog_of_another_simulation_is_refused(mock_snapshot, tmp_path, capsys):
    """Same box, redshift and h, different simulation: it used to measure haloes at the wrong
    positions, which vanished at assemble. The particle mass inside R200c disagrees with the
    catalog's M200c for nearly every halo."""
    snap = mock_snapshot["Astrid"][0]
    foreign = mock_snapshot["SIMBA"][1]
    with pytest.raises(InputFileError, match="does not describe snapshot") as err:
        measure_halos(snap, foreign, IngestOptions(log10_mass_min_msun=12.3))
    assert str(foreign) in str(err.value) and str(snap) in str(err.value)
    # its own catalog passes, with most haloes close to 1
    own = measure_halos(snap, mock_snapshot["Astrid"][1], IngestOptions(log10_mass_min_msun=12.3))
    check = own.meta["mass_check"]
    assert check["fraction_within"] > 0.9
    assert check["median_measured_over_catalog"] == pytest.approx(1.0, abs=0.1)


def test_wind_phase_cells_are_not_stars(tmp_path):
    """IllustrisTNG's PartType4 holds wind-phase cells (GFM_StellarFormationTime <= 0)."""
    snap, cat, truth = write_sphere_halo(tmp_path)
    times = np.where(np.arange(100) < 30, -0.5, 0.6).astype(np.float32)  # 30 wind cells
    with h5py.File(snap, "r+") as fh:
        fh["PartType4/GFM_StellarFormationTime"] = times
    row = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0))
    assert row["Mstar200c"][0] == pytest.approx(0.7 * truth["star_mass_msun"], rel=1e-6)
    assert row.meta["wind_mass_in_r200c_msun"] == pytest.approx(0.3 * truth["star_mass_msun"], rel=1e-5)
    assert "GFM_StellarFormationTime > 0" in row.meta["stars_rule"]


def test_one_star_forming_gas_rule_for_ingest_and_the_profile_stage(tmp_path):
    """A quarter of the sphere's gas is star-forming at the same temperature: exclude removes it
    from Y, T_mw's weights and the pressure profile alike, and keeps it in masses and density."""
    from pipeline.particles.shells import ProfileOptions
    from pipeline.radial_profiles.measure import measure_radial_profiles

    snap, cat, _ = write_sphere_halo(tmp_path, sf_fraction=0.25)
    halo = {rule: measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0,
                                                         star_forming_gas=rule))[0]
            for rule in ("exclude", "include")}
    prof = {rule: measure_radial_profiles(snap, cat, ProfileOptions(star_forming_gas=rule,
                                                                    max_radius_mpc=0.5))
            for rule in ("exclude", "include")}
    assert halo["exclude"]["Y200c"] == pytest.approx(0.75 * halo["include"]["Y200c"], rel=1e-4)
    assert halo["exclude"]["Mgas200c"] == halo["include"]["Mgas200c"]
    ex, inc = prof["exclude"], prof["include"]
    filled = np.asarray(inc["density_mean"]) > 0
    ratio = np.asarray(ex["pressure_mean"])[filled] / np.asarray(inc["pressure_mean"])[filled]
    assert np.median(ratio) == pytest.approx(0.75, abs=0.1)  # shells hold ~ a quarter SF gas
    np.testing.assert_array_equal(ex["density_mean"], inc["density_mean"])
    assert ex.meta["star_forming_gas"] == "exclude"
    with pytest.raises(ConfigError, match="star_forming_gas"):
        IngestOptions(star_forming_gas="sometimes")


@pytest.fixture
def default_config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["samples"]["SIMBA"].update(snapshots=[90, 90]),
     "samples.SIMBA.snapshots.*non-unique|has non-unique"),
    (lambda c: c["samples"]["SIMBA"].update(sims=["LH_0..LH_5", "LH_2"]),
     r"samples.SIMBA.sims.*\['LH_2'\] twice"),
    (lambda c: c["selection"].update(log10_mass_min_msun=13.0, log10_mass_max_msun=12.5),
     "selection.log10_mass_max_msun.*must exceed"),
])
def test_config_mistakes_that_used_to_pass(default_config, mutate, message):
    mutate(default_config)
    with pytest.raises(ConfigError, match=message):
        validate_config(default_config)


def test_the_stacks_kind_cannot_exclude_star_forming_gas():
    cfg = yaml.safe_load((REPO / "studies/camels1p_tng_to_simba.yaml").read_text())
    assert validate_config(cfg)["star_forming_gas"] == "include"
    cfg["star_forming_gas"] = "exclude"
    with pytest.raises(ConfigError, match="'star_forming_gas'.*stacks"):
        validate_config(cfg)


def test_old_star_forming_key_is_refused_with_the_rewrite(default_config):
    default_config["ingest"] = {"star_forming_gas_in_y": True}
    with pytest.raises(ConfigError, match="star_forming_gas_in_y.*'star_forming_gas: include'"):
        validate_config(default_config)


def test_yaml_syntax_error_names_file_line_and_column(tmp_path, capsys):
    bad = tmp_path / "study.yaml"
    bad.write_text("study: x\ndata:\n  kind: mock\n   root: data/mock\n")
    assert main(["check-config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"config file {bad}, line 4, column 8" in err
    assert main(["check-config", str(REPO / "config.yaml")]) == 0


def test_duplicate_haloes_stop_assemble(tmp_path):
    """A snapshot listed twice used to count every halo twice ('assembled 644 haloes' for 322)."""
    from pipeline.ingest.assemble import assemble_halos
    from pipeline.io.tables import write_table

    snap, cat, _ = write_sphere_halo(tmp_path)
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0),
                      meta={"suite": "S", "sim": "LH_0", "snapshot": 33})
    write_table(t, tmp_path / "a.h5")
    write_table(t, tmp_path / "b.h5")
    sel = {"log10_mass_min_msun": 10.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 1}
    with pytest.raises(DataError, match="appear twice.*listed twice"):
        assemble_halos([tmp_path / "a.h5", tmp_path / "b.h5"], sel)


def test_assemble_logs_what_each_cut_removed_per_simulation(mock_snapshot, tmp_path, caplog):
    from pipeline.ingest.assemble import assemble_halos
    from pipeline.io.tables import write_table

    snap, cat, _, _ = mock_snapshot["SIMBA"]
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=12.3),
                      meta={"suite": "SIMBA", "sim": "LH_0", "snapshot": 90,
                            "params": {"Omega_m": 0.3}})
    write_table(t, tmp_path / "t.h5")
    sel = {"log10_mass_min_msun": 12.5, "log10_mass_max_msun": 16.0, "min_gas_particles": 10**6}
    with caplog.at_level("INFO"), pytest.raises(DataError, match="fewer than 1000000 gas particles"):
        assemble_halos([tmp_path / "t.h5"], sel)
    assert "SIMBA LH_0" in caplog.text and "log10 M200c < 12.5" in caplog.text
    assert "removes every halo of this simulation" in caplog.text
    caplog.clear()
    sel["min_gas_particles"] = 50
    with caplog.at_level("INFO"):
        out = assemble_halos([tmp_path / "t.h5"], sel)
    removed = out.meta["halos_removed_per_cut"]["SIMBA"]
    assert sum(removed.values()) + len(out) == len(t)


def _evaluate_cli(tmp_path, halos: Table, evaluate: dict, capsys) -> tuple[int, str, Path]:
    from pipeline.io.tables import write_table

    write_table(halos, tmp_path / "halos.h5")
    Table({"expression": ["17.0"], "chosen": [True]},
          meta={"chosen": "17.0 - 0.5*c_gas", "features": ["c_gas"]}).write(tmp_path / "sr.ecsv",
                                                                       overwrite=True)
    options = {"target": {"name": "M", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": 0.6},
               "train": ["A"], "holdout": ["B"], "evaluate": evaluate}
    out = tmp_path / "ev.ecsv"
    code = main(["evaluate", "--halos", str(tmp_path / "halos.h5"), "--sr", str(tmp_path / "sr.ecsv"),
                 "--options", json.dumps(options), "--out", str(out), "--residuals",
                 str(tmp_path / "r.h5"), "--per-sim", str(tmp_path / "p.ecsv")])
    return code, capsys.readouterr().err, out


def _suites(rng):
    parts = []
    for suite, n in (("A", 300), ("B", 200)):
        x = rng.uniform(-6, -4, n)
        c = rng.uniform(0.3, 0.7, n)
        parts.append(Table({"suite": [suite] * n, "sim": [f"LH_{i % 6}" for i in range(n)],
                            "log10_Y200c_ss": x, "c_gas": c,
                            "log10_M200c": 0.6 * x + 17.0 - 0.5 * c + 0.01 * rng.normal(size=n)}))
    return vstack(parts)


def test_every_mass_bin_empty_stops_evaluate_naming_the_keys(tmp_path, capsys):
    """It used to write a table of NaN, on which the report crashed (IndexError)."""
    halos = _suites(np.random.default_rng(0))
    code, err, out = _evaluate_cli(tmp_path, halos, {"mass_bins": [10.0, 11.0, 12.0],
                                                     "bootstrap": 20}, capsys)
    assert code == 1 and "evaluate.mass_bins" in err and "evaluate.min_halos_per_bin" in err
    assert "sample A has 0 halo(es)" in err and not out.exists()
    code, err, out = _evaluate_cli(tmp_path, halos, {"mass_bins": [12.0, 15.0], "bootstrap": 20,
                                                     "min_halos_per_bin": 1000}, capsys)
    assert code == 1 and "min_halos_per_bin = 1000" in err and not out.exists()


def test_no_bin_with_enough_haloes_still_gives_a_report(tmp_path, capsys):
    """min_halos_per_bin above every bin's count but not the total: bins are NaN (with a
    warning), the all-masses row has numbers, and the report builds."""
    from pipeline.report.sections import summary_sentences

    halos = _suites(np.random.default_rng(1))
    code, _, out = _evaluate_cli(tmp_path, halos, {"mass_bins": [12.0, 13.0, 13.5, 14.0, 15.0],
                                                   "bootstrap": 20, "min_halos_per_bin": 150},
                                 capsys)
    assert code == 0
    ev = Table.read(out)
    assert np.all(np.isnan(ev["scatter_log"][ev["bin"] == "bin"]))
    assert np.all(np.isfinite(ev["scatter_log"][ev["bin"] == "all"]))
    assert "B (200 haloes" in summary_sentences(ev, ["B"])[0]


def test_finite_check_reads_sums_but_never_misses_or_invents_a_bad_value():
    """The check sums a chunk first: finite values whose sum overflows must pass, and values
    that cancel in a sum (+inf and -inf, NaN among large numbers) must still be found."""
    from pipeline.io.gadget import _require_finite

    big = np.full(1000, 3e38, dtype=np.float32)  # the float32 sum overflows to inf
    _require_finite(big, Path("f.hdf5"), "PartType0/InternalEnergy", 0)
    _require_finite(np.arange(12).reshape(4, 3), Path("f.hdf5"), "PartType1/ParticleIDs", 0)
    for values, rows in ((np.array([1.0, np.inf, -np.inf, 2.0]), "[1, 2]"),
                         (np.append(big, np.nan), "[1000]"),
                         (np.array([[0.0, 1.0, 2.0], [3.0, np.nan, 4.0]]), "[1]")):
        with pytest.raises(InputFileError, match=re.escape(f"first at row(s) {rows}")):
            _require_finite(values, Path("f.hdf5"), "PartType0/Coordinates", 0)
