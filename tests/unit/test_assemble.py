"""Assemble and table I/O: derived columns, selection, atomic writes."""

import warnings

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from pipeline.errors import DataError, InputFileError
from pipeline.ingest.assemble import assemble_halos
from pipeline.io.atomic import atomic_path
from pipeline.io.tables import read_table, write_table


def _halo_table(path, suite, redshift, n=20, mass=1e13, sim="LH_0", params=True):
    t = Table()
    t["M200c"] = np.full(n, mass) * u.Msun
    t["M500c"] = np.full(n, 0.7 * mass) * u.Msun
    t["Y200c"] = np.full(n, 1e-7) * u.Mpc**2
    t["Y500c"] = np.full(n, 6e-8) * u.Mpc**2
    t["Mstar200c"] = np.full(n, 1e11) * u.Msun
    t["Mgas200c"] = np.full(n, 1e12) * u.Msun
    t["T_mw200c"] = np.full(n, 1e7) * u.K
    t["N_gas200c"] = np.full(n, 1000)
    t.meta = {"suite": suite, "sim": sim, "snapshot": 90, "redshift": redshift,
              "cosmology": {"h": 0.7, "Omega_m": 0.3},
              "params": {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 2.0} if params else {}}
    write_table(t, path)
    return path


def test_assemble_scales_self_similarly(tmp_path):
    paths = [_halo_table(tmp_path / "a.h5", "A", 0.0), _halo_table(tmp_path / "b.h5", "B", 1.0)]
    sel = {"log10_mass_min_msun": 12.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 50}
    t = assemble_halos(paths, sel)
    assert len(t) == 40
    ez1 = np.sqrt(0.3 * 8 + 0.7)
    b = t[t["suite"] == "B"]
    assert b["log10_Y200c_ss"][0] == pytest.approx(np.log10(1e-7 * ez1 ** (-2 / 3)))
    assert t["Mstar_over_Mgas"][0] == pytest.approx(0.1)
    assert t["A_SN1"][0] == 2.0 and np.isnan(t["A_AGN2"][0])
    assert t.meta["halos_after_cuts"] == {"A": 20, "B": 20}


def test_parameters_are_joined_from_each_suites_file(tmp_path):
    from pipeline.cli import main
    from pipeline.io.params import write_simulation_params

    sel = {"log10_mass_min_msun": 12.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 50}
    params = {f"LH_{i}": {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 0.5 * (i + 1), "A_AGN1": 1.0,
                          "A_SN2": 1.0, "A_AGN2": 2.0, "seed": i} for i in range(2)}
    write_simulation_params(tmp_path / "A.txt", params)
    paths = [_halo_table(tmp_path / f"{sim}.h5", "A", 0.0, sim=sim, params=False) for sim in params]
    t = assemble_halos(paths, sel, {"A": tmp_path / "A.txt"})
    assert sorted(set(t["A_SN1"])) == [0.5, 1.0] and np.all(t["A_AGN2"] == 2.0)
    out = tmp_path / "halos.h5"
    assert main(["assemble", "--inputs", *map(str, paths), "--params-files", f"A={tmp_path / 'A.txt'}",
                 "--options", '{"log10_mass_min_msun": 12, "log10_mass_max_msun": 16, '
                 '"min_gas_particles": 50}', "--out", str(out)]) == 0
    assert sorted(set(read_table(out)["A_SN1"])) == [0.5, 1.0]
    # a simulation the parameter file lacks: named, with the file's suite
    stray = _halo_table(tmp_path / "LH_7.h5", "A", 0.0, sim="LH_7", params=False)
    with pytest.raises(DataError, match="LH_7 of suite A has no row"):
        assemble_halos([*paths, stray], sel, {"A": tmp_path / "A.txt"})
    assert main(["assemble", "--inputs", str(paths[0]), "--params-files", "A.txt", "--options", "{}",
                 "--out", str(out)]) != 0


def test_empty_selection_names_the_key(tmp_path):
    paths = [_halo_table(tmp_path / "a.h5", "A", 0.0, mass=1e11)]
    sel = {"log10_mass_min_msun": 12.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 50}
    with pytest.raises(DataError, match="selection.log10_mass_min_msun"):
        assemble_halos(paths, sel)


def test_table_round_trip_keeps_units_and_meta(tmp_path):
    t = Table({"Y200c": [1e-6, 2e-6] * u.Mpc**2}, meta={"seed": 3, "nested": {"a": [1, 2]}})
    for name in ("t.h5", "t.ecsv"):
        back = read_table(write_table(t, tmp_path / name), required=["Y200c"])
        assert back["Y200c"].unit == u.Mpc**2
        assert back.meta["nested"] == {"a": [1, 2]}
    with pytest.raises(InputFileError, match="lacks column"):
        read_table(tmp_path / "t.h5", required=["M200c"])


def _header_table():
    """A stage table's kinds of header content: units, descriptions, nested metadata with an
    ordered mapping, a tuple, a quantity and a unit, and text that needs quoting."""
    from collections import OrderedDict

    t = Table()
    t["M200c"] = np.array([1e13, 2e14]) * u.Msun
    t["Y200c"] = np.array([1e-7, 3e-6]) * u.Mpc**2
    t["Vmax"] = np.array([300.0, 900.0]) * u.km / u.s
    t["mass_bin"] = ["12-12.3", "13.1-13.8"]
    t["M200c"].description = "mass inside R200c: 'quoted', with a colon"
    t.meta = OrderedDict(suite="SIMBA", snapshot=90, edges=(12.0, 12.3),
                         box=25.0 * u.Mpc, unit=u.Msun / u.kpc**3,
                         provenance={"versions": {"astropy": "7.0"}, "seeds": [1, 2]})
    return t


@pytest.mark.skipif(not __import__("pipeline.io.yaml_header").io.yaml_header.HAS_LIBYAML,
                    reason="PyYAML built without libyaml: astropy's own parser is used")
def test_libyaml_headers_read_as_astropy_does(tmp_path):
    """The header of a stage table parsed by libyaml is astropy's, item for item, in HDF5 and
    ECSV; a broken header fails as it does in astropy; astropy's parser is back afterwards."""
    from astropy.table import meta as table_meta

    from pipeline.io.yaml_header import header_from_yaml, libyaml_headers

    t = _header_table()
    lines = table_meta.get_yaml_from_table(t)
    assert header_from_yaml(lines) == table_meta.get_header_from_yaml(lines)
    ecsv = ["%ECSV 1.0", "---", *lines]  # as the ECSV reader passes them: its version first
    assert header_from_yaml(ecsv) == table_meta.get_header_from_yaml(ecsv)
    for suffix in (".h5", ".ecsv"):
        path = write_table(t, tmp_path / f"t{suffix}")
        ours = read_table(path)
        theirs = Table.read(path, **({"path": "table"} if suffix == ".h5" else {}))
        theirs.convert_bytestring_to_unicode()
        assert ours.meta == theirs.meta and ours.meta["box"] == 25.0 * u.Mpc
        assert type(ours.meta["edges"]) is tuple and ours.meta["unit"] == u.Msun / u.kpc**3
        for name in t.colnames:
            assert ours[name].unit == theirs[name].unit
            assert ours[name].description == theirs[name].description
            assert list(ours[name]) == list(theirs[name])
    # a constructor astropy registers on first use (cosmologies) is known after that use
    from astropy.cosmology import Planck18

    cosmo = Table({"a": [1, 2]}, meta={"cosmology": Planck18})
    with warnings.catch_warnings():  # astropy's own about a cosmology's "redshift" unit
        warnings.simplefilter("ignore", u.UnitsWarning)
        path = write_table(cosmo, tmp_path / "cosmology.ecsv")
        assert read_table(path).meta["cosmology"] == Planck18
    with pytest.raises(table_meta.YamlParseError):
        header_from_yaml(["datatype: [unclosed"])
    with libyaml_headers():
        assert table_meta.get_header_from_yaml is header_from_yaml
    assert table_meta.get_header_from_yaml is not header_from_yaml


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.h5"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_column_docs_are_in_sync():
    from conftest import REPO

    from pipeline.columns import catalog_table_markdown, column_table_markdown

    assert column_table_markdown() in (REPO / "docs" / "columns.md").read_text()
    assert catalog_table_markdown() in (REPO / "docs" / "columns.md").read_text()


def test_the_registry_says_what_each_column_is_computed_from():
    """Every column names the registry columns whose values enter it (so that a feature computed
    from a target's y can be told apart: f_gas = Mgas/M for M given Y)."""
    from pipeline.columns import DERIVED_COLUMNS, HALO_COLUMNS, computed_from
    from pipeline.columns.catalog import catalog_columns

    names = {c.name for c in HALO_COLUMNS + DERIVED_COLUMNS}
    for col in HALO_COLUMNS + DERIVED_COLUMNS:
        assert set(col.inputs) <= names, col.name
    for rows in ("subhalos", "groups"):
        cols = catalog_columns(rows)
        assert all(set(c.inputs) <= {k.name for k in cols} for c in cols), rows
        assert "Vmax" in computed_from("log10_Vmax", cols)
    assert "M200c" in computed_from("f_gas200c") and "M200c" in computed_from("c_NFW")
    assert "M200c" in computed_from("R200c")  # M200c by definition
    assert computed_from("log10_Y200c_ss") == {"log10_Y200c_ss", "Y200c", "Ez", "redshift", "Omega_m"}
    assert "M200c" not in computed_from("Mstar_over_Mgas") | computed_from("c_gas")
    assert computed_from("not_a_column") == {"not_a_column"}
    # the code named for each group of columns exists
    import importlib

    from pipeline.columns import COMPUTED_BY

    assert all(importlib.import_module(module) for module in COMPUTED_BY.values())


def _params_28(path, sims):
    """A parameter file in the CAMELS 28-parameter style: aliased cosmology names and feedback
    parameters under their code names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["#Name Omega0 sigma8 WindEnergyIn1e51erg RadioFeedbackFactor seed"]
    lines += [f"{sim} 0.3 0.8 {1.0 + i} {2.0 * (i + 1)} {i}" for i, sim in enumerate(sims)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_parameter_of_a_simulation_table_becomes_a_column(tmp_path):
    """Parameters beyond the standard six (the 28-parameter files) are columns of their own name,
    NaN for the sets whose file lacks them; the seed is no parameter."""
    from pipeline.io.params import parameter_names, write_simulation_params

    sel = {"log10_mass_min_msun": 12.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 50}
    sb28 = _params_28(tmp_path / "SB28.txt", ["SB28_0", "SB28_1"])
    assert parameter_names(sb28) == ["Omega_m", "sigma_8", "WindEnergyIn1e51erg", "RadioFeedbackFactor"]
    write_simulation_params(tmp_path / "B.txt", {"LH_0": {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 1.0,
                                                          "A_AGN1": 1.0, "A_SN2": 1.0, "A_AGN2": 1.0,
                                                          "seed": 3}})
    paths = [_halo_table(tmp_path / f"{sim}.h5", "A", 0.0, sim=sim, params=False)
             for sim in ("SB28_0", "SB28_1")] + [_halo_table(tmp_path / "b.h5", "B", 0.0, params=False)]
    t = assemble_halos(paths, sel, {"A": sb28, "B": tmp_path / "B.txt"})
    a = t[t["suite"] == "A"]
    assert sorted(set(a["WindEnergyIn1e51erg"])) == [1.0, 2.0]
    assert sorted(set(a["RadioFeedbackFactor"])) == [2.0, 4.0] and np.all(np.isnan(a["A_SN1"]))
    b = t[t["suite"] == "B"]
    assert np.all(np.isnan(b["WindEnergyIn1e51erg"])) and np.all(b["A_SN1"] == 1.0)
    assert "seed" not in t.colnames and not t.masked


def test_the_config_accepts_the_parameters_its_simulation_tables_carry(tmp_path):
    from pipeline.config import validate_config
    from pipeline.errors import ConfigError

    root = tmp_path / "sims"
    _params_28(root / "Sims/IllustrisTNG/CosmoAstroSeed_IllustrisTNG_L25n256_SB28.txt", ["SB28_0"])
    config = {"study": "s", "data": {"kind": "camels", "root": str(root), "layout": "camels_legacy"},
              "samples": {"tng": {"suite": "IllustrisTNG", "set": "SB28", "sims": ["SB28_0"]},
                          "simba": {"suite": "SIMBA", "sims": ["LH_0"]}},
              "train": ["tng"], "holdout": ["simba"],
              "targets": [{"name": "m", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": "3/5",
                           "features": ["c_gas", "WindEnergyIn1e51erg"]}],
              "rank": {"top_k": 2}}
    assert validate_config(config)["targets"][0]["features"] == ["c_gas", "WindEnergyIn1e51erg"]
    config["targets"][0]["features"] = ["c_gas", "WindEnergy"]
    with pytest.raises(ConfigError, match="unknown column.*'WindEnergy'"):
        validate_config(config)


def test_cosmic_baryon_fraction_from_header_table_or_default(tmp_path):
    """f_b = Omega_b / Omega_m per row: a parameter table's Omega_b wins, then the file's
    (snapshot header OmegaBaryon), then the study's data.omega_b; the gas columns normalised by
    it follow."""
    sel = {"log10_mass_min_msun": 12.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 50}
    header = _halo_table(tmp_path / "h.h5", "A", 0.0)
    t = read_table(header)
    t.meta["cosmology"]["Omega_b"] = 0.045
    write_table(t, header)
    plain = _halo_table(tmp_path / "p.h5", "B", 0.0)
    out = assemble_halos([header, plain], sel, omega_b=0.05)
    a, b = out[out["suite"] == "A"], out[out["suite"] == "B"]
    assert np.all(a["Omega_b"] == 0.045) and a["f_b"][0] == pytest.approx(0.15)
    assert np.all(b["Omega_b"] == 0.05) and b["f_b"][0] == pytest.approx(0.05 / 0.3)
    # Mgas200c / M200c = 0.1 in these tables
    assert a["f_gas200c_over_fb"][0] == pytest.approx(0.1 / 0.15)
    assert a["log10_Mgas200c_over_fb"][0] == pytest.approx(12.0 - np.log10(0.15))
    assert a["log10_Y200c_ss_over_fb"][0] == pytest.approx(a["log10_Y200c_ss"][0] - np.log10(0.15))
    # a parameter table with Omega_b (and Omega_m) per simulation
    (tmp_path / "C.txt").write_text("#Name Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2 Omega_b seed\n"
                                    "LH_0 0.2 0.8 1 1 1 1 0.04 1\nLH_1 0.4 0.8 1 1 1 1 0.04 2\n")
    paths = [_halo_table(tmp_path / f"{sim}.h5", "C", 0.0, sim=sim, params=False)
             for sim in ("LH_0", "LH_1")]
    for path, omega_m in zip(paths, (0.2, 0.4), strict=True):  # headers that agree with the file
        t = read_table(path)
        t.meta["cosmology"]["Omega_m"] = omega_m
        write_table(t, path)
    c = assemble_halos(paths, sel, {"C": tmp_path / "C.txt"})
    assert np.all(c["Omega_b"] == 0.04)
    np.testing.assert_allclose(c["f_b"], np.where(c["sim"] == "LH_0", 0.2, 0.1))
    # an Omega_b above Omega_m is no cosmology
    with pytest.raises(DataError, match="Omega_b .* is not in \\(0, Omega_m\\)"):
        assemble_halos(paths[:1], sel, omega_b=0.5)


def test_stacks_carry_the_study_cosmology_into_f_b(tmp_path):
    """Input kind stacks: Omega_m from simulations.csv (varied, as in an LH set), Omega_b from
    stacks.omega_b: f_b per simulation."""
    from conftest import write_synthetic_profiles

    from pipeline.ingest.stacks import StackOptions, measure_stack_block

    root = write_synthetic_profiles(tmp_path / "lh", suites=("TNG",), sim_names=["LH_0", "LH_1"],
                                    omega_m=lambda i: 0.2 + 0.2 * i)
    block = measure_stack_block(root, "TNG", ["LH_0", "LH_1"], StackOptions(omega_b=0.049))
    write_table(block, tmp_path / "block.h5")
    sel = {"log10_mass_min_msun": 11.0, "log10_mass_max_msun": 16.0, "min_gas_particles": -1}
    t = assemble_halos([tmp_path / "block.h5"], sel, omega_b=0.03)
    for sim, om in (("LH_0", 0.2), ("LH_1", 0.4)):
        rows = t[t["sim"] == sim]
        np.testing.assert_allclose(rows["f_b"], 0.049 / om)
