"""Relation files: written from a study's training haloes, read back, applied to other tables."""

import json

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from pipeline.cli import main as cli_main
from pipeline.columns import DERIVED_COLUMNS, HALO_COLUMNS
from pipeline.discovery.dataset import Target
from pipeline.discovery.relation_file import (
    FORMAT,
    load_relation,
    relation_record,
    write_relation,
)
from pipeline.discovery.relations import discovered_relation
from pipeline.errors import DataError, InputFileError

REGISTRY = list(HALO_COLUMNS + DERIVED_COLUMNS)
TARGET = Target("M_from_Y", "log10_M200c", "log10_Y200c_ss", 0.6)
EXPRESSION = "17.4 + 0.3*log(1 + 5.0*Mstar_over_Mgas) - 0.8*c_gas"


def _halos(rng, n_per_sample=200) -> Table:
    """Two samples of a planted relation log10 M = 0.6 log10 Y + f(Mstar/Mgas, c_gas)."""
    parts = []
    for i, sample in enumerate(("train_code", "other_code")):
        ratio = rng.uniform(0.05, 1.0 + i, n_per_sample)  # the held-out code reaches beyond
        c_gas = rng.uniform(0.2, 0.6, n_per_sample)
        log_y = rng.uniform(-7.0, -5.0, n_per_sample)
        log_m = 0.6 * log_y + 17.4 + 0.3 * np.log(1 + 5.0 * ratio) - 0.8 * c_gas
        parts.append({"sample": [sample] * n_per_sample, "suite": [sample] * n_per_sample,
                      "sim": [f"LH_{k % 10}" for k in range(n_per_sample)],
                      "log10_Y200c_ss": log_y, "log10_M200c": log_m + rng.normal(0, 0.02, n_per_sample),
                      "Mstar_over_Mgas": ratio, "c_gas": c_gas,
                      "M200c": 10**log_m})
    table = Table({k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]})
    table["M200c"].unit = u.Msun
    return table


@pytest.fixture
def relation_path(tmp_path):
    halos = _halos(np.random.default_rng(3))
    sr_meta = {"features": ["Mstar_over_Mgas", "c_gas"], "chosen": EXPRESSION,
               "constants": [{"name": "c_0", "value": 17.4, "error": 0.01}],
               "constants_covariance": [[1e-4]]}
    record = relation_record(halos, TARGET, sr_meta, ["train_code"], REGISTRY, study="planted")
    path = write_relation(record, tmp_path / "relations" / "M_from_Y.json")
    return path, halos


def test_file_is_self_contained_json(relation_path):
    path, halos = relation_path
    record = json.loads(path.read_text())
    assert record["format"] == FORMAT and record["study"] == "planted"
    assert record["target"]["y_log10_unit"] == "solMass"
    columns = {c["name"]: c for c in record["columns"]}
    assert list(columns) == ["log10_Y200c_ss", "Mstar_over_Mgas", "c_gas"]
    assert columns["log10_Y200c_ss"]["log10_unit"] == "Mpc2"
    assert {"Y200c", "Ez"} <= set(columns["log10_Y200c_ss"]["computed_from"])
    assert columns["Mstar_over_Mgas"]["log10_unit"] == ""  # a ratio, no unit inside
    train = halos[halos["sample"] == "train_code"]
    assert columns["c_gas"]["domain"] == [float(train["c_gas"].min()), float(train["c_gas"].max())]
    assert record["training"]["n_haloes"] == 200 and record["training"]["n_simulations"] == 10
    assert record["baseline"]["intercept"] == pytest.approx(
        np.mean(train["log10_M200c"] - 0.6 * train["log10_Y200c_ss"]))
    assert "versions" in record["provenance"]


def test_prediction_is_the_evaluate_stage_one_bit_for_bit(relation_path):
    path, halos = relation_path
    relation = load_relation(path)
    expected = discovered_relation(TARGET, EXPRESSION, ["Mstar_over_Mgas", "c_gas"]).predict(halos)
    assert np.array_equal(relation.predict(halos), expected)
    # the planted relation is recovered on the held-out code (noise 0.02 dex)
    other = halos[halos["sample"] == "other_code"]
    assert np.std(relation.predict(other) - other["log10_M200c"]) < 0.03


def test_outside_domain_flags_the_held_out_code_beyond_the_training_range(relation_path):
    path, halos = relation_path
    relation = load_relation(path)
    flags = relation.outside_domain(halos)
    train = halos["sample"] == "train_code"
    assert not flags[train].any()
    beyond = np.zeros(len(halos), dtype=bool)
    for name in ("log10_Y200c_ss", "Mstar_over_Mgas", "c_gas"):
        v = np.asarray(halos[name])
        beyond |= (v < v[train].min()) | (v > v[train].max())
    assert np.array_equal(flags, beyond)
    assert flags[~train].mean() > 0.4  # Mstar/Mgas reaches twice as far in the other code


def test_mapping_of_arrays_and_apply_columns(relation_path):
    path, halos = relation_path
    relation = load_relation(path)
    mapping = {n: np.asarray(halos[n]) for n in ("log10_Y200c_ss", "Mstar_over_Mgas", "c_gas")}
    assert np.array_equal(relation.predict(mapping), relation.predict(halos))
    out = relation.apply(halos)
    assert {"log10_M200c_predicted", "outside_domain", "log10_M200c_residual"} <= set(out.colnames)
    assert np.allclose(out["log10_M200c_residual"],
                       out["log10_M200c_predicted"] - halos["log10_M200c"])
    assert "log10_M200c_residual" not in relation.apply(mapping).colnames  # no truth given


def test_a_missing_column_names_it_with_its_definition(relation_path):
    path, halos = relation_path
    relation = load_relation(path)
    halos.remove_column("c_gas")
    with pytest.raises(DataError, match=r"(?s)lacks 1 column.*c_gas \[dimensionless\]: gas concentration.*"
                                        r"Mgas200c, Mgas_half200c"):
        relation.predict(halos)


def test_units_convert_where_they_can_and_are_refused_where_not(relation_path):
    path, halos = relation_path
    relation = load_relation(path)
    expected = relation.predict(halos)
    as_dex = {"log10_Y200c_ss": (np.asarray(halos["log10_Y200c_ss"]) + 6.0) * u.dex(u.kpc**2),
              "Mstar_over_Mgas": np.asarray(halos["Mstar_over_Mgas"]),
              "c_gas": np.asarray(halos["c_gas"])}  # Y in dex(kpc^2): 1 Mpc^2 = 1e6 kpc^2
    assert np.allclose(relation.predict(as_dex), expected, rtol=0, atol=1e-12)
    with pytest.raises(DataError, match=r"c_gas has unit solMass; the relation expects a dimensionless"):
        relation.predict({**as_dex, "c_gas": as_dex["c_gas"] * u.Msun})
    with pytest.raises(DataError, match=r"log10_Y200c_ss in dex\(K\) cannot be read as dex\(Mpc2\)"):
        relation.predict({**as_dex, "log10_Y200c_ss": as_dex["c_gas"] * u.dex(u.K)})
    with pytest.raises(DataError, match=r"Mstar_over_Mgas has logarithmic unit"):
        relation.predict({**as_dex, "Mstar_over_Mgas": as_dex["c_gas"] * u.dex(u.Msun)})


def test_bad_relation_files_name_the_file(tmp_path, relation_path):
    with pytest.raises(InputFileError, match="does not exist"):
        load_relation(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputFileError, match=r"bad.json is not readable JSON"):
        load_relation(bad)
    bad.write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(InputFileError, match=r"format 'other/9', expected 'scaling-pipeline-relation/1'"):
        load_relation(bad)
    path, _ = relation_path
    record = json.loads(path.read_text())
    del record["equation"]["f"]
    bad.write_text(json.dumps(record))
    with pytest.raises(InputFileError, match=r"bad.json lacks or mangles 'f'"):
        load_relation(bad)


def test_apply_cli_writes_each_format(tmp_path, relation_path):
    path, halos = relation_path
    halos.write(tmp_path / "halos.ecsv")
    for suffix in (".ecsv", ".csv", ".fits", ".h5"):
        out = tmp_path / f"applied{suffix}"
        assert cli_main(["apply", str(path), str(tmp_path / "halos.ecsv"), "--out", str(out),
                         "--sample", "other_code"]) == 0
        table = Table.read(out, **({"path": "table"} if suffix == ".h5" else {}))
        assert len(table) == 200
        assert np.array_equal(np.asarray(table["log10_M200c_predicted"]),
                              load_relation(path).predict(halos[halos["sample"] == "other_code"]))
    halos.remove_column("c_gas")
    halos.write(tmp_path / "lacking.ecsv")
    assert cli_main(["apply", str(path), str(tmp_path / "lacking.ecsv"), "--out",
                     str(tmp_path / "x.ecsv")]) == 1
    assert not (tmp_path / "x.ecsv").exists()


def test_apply_cli_refuses_bad_tables_and_outputs_before_writing(tmp_path, relation_path, capsys):
    path, halos = relation_path
    table = halos[["log10_Y200c_ss", "Mstar_over_Mgas", "c_gas", "log10_M200c"]][:5]
    # an unknown output suffix is refused before the relation or the table is read
    assert cli_main(["apply", str(path), str(tmp_path / "absent.csv"), "--out",
                     str(tmp_path / "pred.txt")]) == 1
    assert "--out" in capsys.readouterr().err and not (tmp_path / "pred.txt").exists()
    # a string in a numeric column: file, column and row named
    lines = ["log10_Y200c_ss,Mstar_over_Mgas,c_gas"] + [
        f"{r['log10_Y200c_ss']},{r['Mstar_over_Mgas']},{'abc' if i == 3 else r['c_gas']}"
        for i, r in enumerate(table)]
    (tmp_path / "strings.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.ecsv"
    assert cli_main(["apply", str(path), str(tmp_path / "strings.csv"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "strings.csv" in err and "column c_gas holds 'abc' in row 3" in err and not out.exists()
    # a needed column without a finite value fails (no "0 with a finite prediction" and exit 0)
    table["c_gas"] = np.nan
    table.write(tmp_path / "nan.ecsv")
    assert cli_main(["apply", str(path), str(tmp_path / "nan.ecsv"), "--out", str(out)]) == 1
    assert "column c_gas has no finite value in its 5 rows" in capsys.readouterr().err
    assert not out.exists()
    # an empty CSV cell is a missing value (NaN), not a fill value
    lines[4] = ",".join(lines[4].split(",")[:2] + [""])
    (tmp_path / "empty.csv").write_text("\n".join(lines[:3] + lines[4:]) + "\n")
    assert cli_main(["apply", str(path), str(tmp_path / "empty.csv"), "--out", str(out)]) == 0
    applied = Table.read(out)
    assert np.isnan(applied["log10_M200c_predicted"][2]) and np.isfinite(
        applied["log10_M200c_predicted"][:2]).all()
