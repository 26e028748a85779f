"""Readers of the real formats, and bad inputs: each error names the file and the field, and the
ingest CLI leaves no output behind."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from astropy.table import Table
from conftest import write_sphere_halo

from pipeline.cli import main
from pipeline.errors import InputFileError
from pipeline.ingest.particles import IngestOptions, measure_halos
from pipeline.io.gadget import GroupCatalog, Snapshot, output_name
from pipeline.io.params import read_simulation_params, write_simulation_params


def test_header_conversions(sphere_halo):
    snap = Snapshot(sphere_halo[0])
    h = snap.header
    assert h.mass_to_msun == pytest.approx(1e10 / 0.7)
    assert h.length_to_mpc == pytest.approx(1 / 0.7 / 1000)
    assert h.box_size.to_value("Mpc") == pytest.approx(25.0 / 0.7)
    assert snap.has_field(0, "GFM_Metallicity")
    assert not snap.has_field(0, "Metallicity")


def test_dark_matter_masses_from_mass_table(sphere_halo):
    chunk = next(Snapshot(sphere_halo[0]).iter_fields(1, ["Masses"]))
    assert np.all(chunk["Masses"] == 0.01)


def test_simba_like_layout_reads_masses_and_2d_metallicity(mock_snapshot):
    snap = Snapshot(mock_snapshot["SIMBA"][0])
    assert snap.header.mass_table_1e10msun_h[1] == 0.0
    assert snap.has_field(1, "Masses")
    chunk = next(snap.iter_fields(0, ["Metallicity"], chunk_size=10))
    assert chunk["Metallicity"].ndim == 2
    t = measure_halos(mock_snapshot["SIMBA"][0], mock_snapshot["SIMBA"][1],
                      IngestOptions(log10_mass_min_msun=12.3))
    assert t.meta["metallicity_field"] == "Metallicity"
    assert np.all((t["Z_mw200c"] > 0) & (t["Z_mw200c"] < 0.1))


def _run_ingest(snap, cat, out):
    return main(["ingest", "--snapshot", str(snap), "--catalog", str(cat), "--suite", "S",
                 "--sim", "s", "--snap", "33", "--options", '{"log10_mass_min_msun": 10.0}',
                 "--out", str(out)])


def test_cli_ingest_writes_table(sphere_halo, tmp_path):
    out = tmp_path / "out.h5"
    assert _run_ingest(sphere_halo[0], sphere_halo[1], out) == 0
    assert out.exists()


def test_cli_ingest_takes_the_chunk_files_a_workflow_lists(tmp_path):
    snap, cat, _ = write_sphere_halo(tmp_path, n_files=3)
    chunks = [str(tmp_path / f"snap_033.{i}.hdf5") for i in range(3)]
    cat_chunks = [str(tmp_path / f"fof_subhalo_tab_033.{i}.hdf5") for i in range(3)]
    one, many = tmp_path / "one.h5", tmp_path / "many.h5"
    assert _run_ingest(snap, cat, one) == 0
    assert main(["ingest", "--snapshot", *chunks, "--catalog", *cat_chunks, "--params-file",
                 "--suite", "S", "--sim", "s", "--snap", "33", "--options",
                 '{"log10_mass_min_msun": 10.0}', "--out", str(many)]) == 0
    a, b = Table.read(one), Table.read(many)
    assert np.array_equal(a["Y200c"], b["Y200c"])


def test_cli_ingest_takes_the_source_as_snakemake_formats_wildcards(sphere_halo, tmp_path, capsys):
    """The workflow passes ``--source {wildcards}`` (one field per job to format, not five) and
    the profile stage's options inside ``--options``; the table is the one of the five
    arguments."""
    one, source = tmp_path / "one.h5", tmp_path / "source.h5"
    assert main(["ingest", "--snapshot", str(sphere_halo[0]), "--catalog", str(sphere_halo[1]),
                 "--suite", "S", "--volume", "L25n256", "--set", "LH", "--sim", "s", "--snap",
                 "33", "--options", '{"log10_mass_min_msun": 10.0}', "--out", str(one)]) == 0
    assert main(["ingest", "--snapshot", str(sphere_halo[0]), "--catalog", str(sphere_halo[1]),
                 "--source", "sim=s,simset=LH,snap=033,suite=S,volume=L25n256", "--options",
                 '{"log10_mass_min_msun": 10.0}', "--out", str(source)]) == 0
    a, b = Table.read(one), Table.read(source)
    assert a.colnames == b.colnames and np.array_equal(a["Y200c"], b["Y200c"])
    assert {k: b.meta[k] for k in ("suite", "volume", "set", "sim", "snapshot")} == {
        "suite": "S", "volume": "L25n256", "set": "LH", "sim": "s", "snapshot": 33}
    bad = tmp_path / "bad.h5"
    assert main(["ingest", "--snapshot", str(sphere_halo[0]), "--catalog", str(sphere_halo[1]),
                 "--source", "sim=s,snap=33", "--options", "{}", "--out", str(bad)]) == 1
    assert "--source must read suite=" in capsys.readouterr().err and not bad.exists()
    assert main(["ingest", "--snapshot", str(sphere_halo[0]), "--catalog", str(sphere_halo[1]),
                 "--options", "{}", "--out", str(bad)]) == 1
    assert "give --source or --suite, --sim, --snap" in capsys.readouterr().err


def test_output_name_of_listed_files():
    assert str(output_name(["d/snap_099.hdf5"])) == "d/snap_099.hdf5"
    assert str(output_name(["d/snap_099.0.hdf5", "d/snap_099.1.hdf5"])) == "d/snap_099.hdf5"
    assert str(output_name(["d/snap_099.1.hdf5", "d/snap_099.0.hdf5"])) == "d/snap_099.hdf5"
    # chunk 0 missing: the lowest chunk given, whose header names the missing ones
    assert str(output_name(["d/snap_099.2.hdf5", "d/snap_099.1.hdf5"])) == "d/snap_099.1.hdf5"
    with pytest.raises(InputFileError, match="not the chunks"):
        output_name(["d/snap_099.0.hdf5", "d/fof_099.1.hdf5"])
    with pytest.raises(InputFileError, match="not the chunks"):
        output_name(["d/snap_099.hdf5", "d/snap_099.1.hdf5"])
    with pytest.raises(InputFileError, match="no files"):
        output_name([])


def test_missing_snapshot(tmp_path):
    with pytest.raises(InputFileError, match=r"snap_099\.hdf5 does not exist"):
        Snapshot(tmp_path / "snap_099.hdf5")


def test_truncated_snapshot_gives_clear_error_and_no_output(sphere_halo, tmp_path, capsys):
    snap, cat, _ = sphere_halo
    data = snap.read_bytes()
    snap.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputFileError, match=r"cannot open HDF5 file .*snap_033\.hdf5"):
        Snapshot(snap)
    out = tmp_path / "halos.h5"
    assert _run_ingest(snap, cat, out) == 1
    assert "snap_033.hdf5" in capsys.readouterr().err
    assert not out.exists()
    assert not list(tmp_path.glob(".halos.h5*"))


def test_missing_dataset_names_file_and_key(sphere_halo, tmp_path):
    snap, cat, _ = sphere_halo
    with h5py.File(snap, "a") as fh:
        del fh["PartType0/InternalEnergy"]
    with pytest.raises(InputFileError, match=r"snap_033\.hdf5 has no dataset 'PartType0/InternalEnergy'"):
        measure_halos(snap, cat)
    out = tmp_path / "h.h5"
    assert _run_ingest(snap, cat, out) == 1
    assert not out.exists()


def _add_to_header_count(snap, attr: str, ptype: int, extra: int) -> None:
    """Corrupt Header/<attr>[ptype] of ``snap`` by ``extra`` particles."""
    with h5py.File(snap, "a") as fh:
        counts = fh["Header"].attrs[attr].copy()
        counts[ptype] += extra
        fh["Header"].attrs[attr] = counts


def test_numpart_inconsistent_with_data(sphere_halo):
    snap, cat, _ = sphere_halo
    _add_to_header_count(snap, "NumPart_ThisFile", 4, 5)
    _add_to_header_count(snap, "NumPart_Total", 4, 5)
    with pytest.raises(InputFileError, match=r"'PartType4/Coordinates' has 100 rows but "
                                             r"Header/NumPart_ThisFile\[4\] is 105"):
        measure_halos(snap, cat)


def test_numpart_total_inconsistent_with_files(sphere_halo):
    snap, _, _ = sphere_halo
    _add_to_header_count(snap, "NumPart_Total", 0, 1)
    with pytest.raises(InputFileError, match="NumPart_Total"):
        Snapshot(snap)


def test_catalog_from_another_snapshot(tmp_path):
    snap, _, _ = write_sphere_halo(tmp_path / "a", redshift=0.0)
    _, other_cat, _ = write_sphere_halo(tmp_path / "b", redshift=0.5)
    with pytest.raises(InputFileError, match=r"different runs or snapshots: Header/Redshift"):
        measure_halos(snap, other_cat)


def test_missing_chunk_file(tmp_path):
    snap, _, _ = write_sphere_halo(tmp_path, n_files=3)
    snap.with_name("snap_033.1.hdf5").unlink()
    with pytest.raises(InputFileError, match=r"chunk file\(s\) are missing.*snap_033\.1\.hdf5"):
        Snapshot(snap)


def test_missing_catalog_field(sphere_halo):
    _, cat, _ = sphere_halo
    with h5py.File(cat, "a") as fh:
        del fh["Group/Group_R_Crit500"]
    with pytest.raises(InputFileError, match=r"has no dataset 'Group/Group_R_Crit500'"):
        GroupCatalog(cat).read("Group", ["Group_R_Crit500"])


def test_params_file_round_trip_and_errors(tmp_path):
    p = tmp_path / "CosmoAstroSeed_IllustrisTNG_L25n256_LH.txt"
    rows = {"LH_0": {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 0.5, "A_AGN1": 2.0, "A_SN2": 1.0,
                     "A_AGN2": 1.5, "seed": 123}}
    write_simulation_params(p, rows)
    assert p.read_text().startswith("#Name Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2 seed")
    assert read_simulation_params(p)["LH_0"]["A_AGN1"] == 2.0
    p.write_text(p.read_text() + "LH_1 0.3 0.8\n")
    with pytest.raises(InputFileError, match=r"line 3: expected 8 columns"):
        read_simulation_params(p)
    with pytest.raises(InputFileError, match="does not exist"):
        read_simulation_params(tmp_path / "nope.txt")


def test_tng_public_layout_and_globs(tmp_path):
    """IllustrisTNG public data: <sim>/output/snapdir_099/snap_099.<i>.hdf5, chunked."""
    from pipeline.config import validate_config
    from pipeline.errors import ConfigError
    from pipeline.io.layout import catalog_path, params_path, snapshot_path

    data = {"root": str(tmp_path), "layout": "tng"}
    assert Path(params_path(data, "IllustrisTNG")) == tmp_path / "CosmoAstroSeed_IllustrisTNG.txt"
    snap = Path(snapshot_path(data, "IllustrisTNG", "TNG50-4", 99))
    cat = Path(catalog_path(data, "IllustrisTNG", "TNG50-4", 99))
    assert snap == tmp_path / "TNG50-4/output/snapdir_099/snap_099.hdf5"
    assert cat == tmp_path / "TNG50-4/output/groups_099/fof_subhalo_tab_099.hdf5"
    from conftest import write_sphere_halo

    written_snap, written_cat, _ = write_sphere_halo(tmp_path / "tmp", n_files=2)
    snap.parent.mkdir(parents=True)
    cat.parent.mkdir(parents=True)
    for i in range(2):
        (written_snap.parent / f"snap_033.{i}.hdf5").rename(snap.parent / f"snap_099.{i}.hdf5")
        (written_cat.parent / f"fof_subhalo_tab_033.{i}.hdf5").rename(
            cat.parent / f"fof_subhalo_tab_099.{i}.hdf5")
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0))
    assert len(t) == 1 and len(t.meta["snapshot_files"]) == 2
    # globs are matched against the simulation directories; an empty match names the directory
    (tmp_path / "TNG50-3").mkdir()
    cfg = {"study": "s", "data": {"kind": "camels", "root": str(tmp_path), "layout": "tng"},
           "samples": {"TNG": {"suite": "TNG", "sims": ["TNG50-*"]},
                       "Other": {"suite": "Other", "sims": ["TNG300-*"]}},
           "train": ["TNG"], "holdout": ["Other"],
           "targets": [{"name": "t", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": 0.6}],
           "features": ["c_gas"], "rank": {"top_k": 1}}
    with pytest.raises(ConfigError, match=r"'TNG300-\*' of suite Other matches no directory"):
        validate_config(cfg)
    cfg["samples"]["Other"]["sims"] = ["TNG100-1"]
    assert validate_config(cfg)["samples"]["TNG"]["sims"] == ["TNG50-3", "TNG50-4"]


def test_cli_ingest_keeps_the_profiles_in_its_one_file(sphere_halo, tmp_path, caplog):
    """With the profile stage's options (inside ``--options``, as the workflow passes them) the
    ingest file holds the halo table and, under ``radial_profiles``, the snapshot's stacked
    profiles: the same rows as the profile stage measuring the gas on its own, and the same
    halo table as an ingest without profiles."""
    from pipeline.radial_profiles.gather import gather_profile_tables

    plain, both, alone = tmp_path / "plain.h5", tmp_path / "both.h5", tmp_path / "alone.h5"
    source = ["--source", "sim=s,simset=LH,snap=033,suite=S,volume=L25n256"]
    files = ["--snapshot", str(sphere_halo[0]), "--catalog", str(sphere_halo[1])]
    profile = {"mass_bins": ["10-16"], "star_forming_gas": "include"}
    assert main(["ingest", *files, *source, "--options", '{"log10_mass_min_msun": 10.0}',
                 "--out", str(plain)]) == 0
    options = {"log10_mass_min_msun": 10.0, "profile_options": profile}
    assert main(["ingest", *files, *source, "--options", json.dumps(options),
                 "--out", str(both)]) == 0
    assert main(["radial-profiles", *files, "--suite", "S", "--sim", "s", "--snap", "33",
                 "--options", json.dumps(profile), "--out", str(alone)]) == 0
    with h5py.File(plain) as fh:
        assert "radial_profiles" not in fh
    halos, own = Table.read(both, path="table"), Table.read(both, path="radial_profiles")
    assert np.array_equal(halos["Y200c"], Table.read(plain)["Y200c"])
    reference = Table.read(alone)
    assert len(own) > 0 and own.colnames == reference.colnames
    for name in own.colnames:
        assert np.array_equal(np.asarray(own[name]), np.asarray(reference[name]),
                              equal_nan=own[name].dtype.kind == "f"), name
    assert len(gather_profile_tables([both])) == len(own)
    # assemble joins both from the one file: the halo table, and with --profiles-out the profiles
    halos_out, profiles_out = tmp_path / "halos.h5", tmp_path / "radial_profiles.h5"
    selection = {"log10_mass_min_msun": 10.0, "log10_mass_max_msun": 16.0, "min_gas_particles": 1}
    assert main(["assemble", "--inputs", str(both), "--options", json.dumps(selection),
                 "--out", str(halos_out), "--profiles-out", str(profiles_out)]) == 0
    joined = Table.read(profiles_out, path="table")
    assert len(joined) == len(own) and set(joined["suite"]) == {"S"} and set(joined["sim"]) == {"s"}
    assert np.array_equal(np.asarray(joined["density_mean"]), np.asarray(own["density_mean"]),
                          equal_nan=True)
    assert len(Table.read(halos_out, path="table")) == len(halos)
    # with a second thread the profiles are joined in a worker process: the same table, and the
    # worker's error (an ingest file without profiles) fails the command with its message
    beside = tmp_path / "beside.h5"
    assert main(["assemble", "--inputs", str(both), "--options", json.dumps(selection),
                 "--out", str(halos_out), "--profiles-out", str(beside), "--threads", "2"]) == 0
    assert np.array_equal(np.asarray(Table.read(beside, path="table")["density_mean"]),
                          np.asarray(joined["density_mean"]), equal_nan=True)
    other = tmp_path / "other_sim_no_profiles.h5"
    assert main(["ingest", *files, "--source", "sim=t,simset=LH,snap=033,suite=S,volume=L25n256",
                 "--options", '{"log10_mass_min_msun": 10.0}', "--out", str(other)]) == 0
    failed = tmp_path / "failed.h5"
    assert main(["assemble", "--inputs", str(both), str(other), "--options", json.dumps(selection),
                 "--out", str(tmp_path / "h.h5"), "--profiles-out", str(failed),
                 "--threads", "2"]) != 0
    assert "other_sim_no_profiles.h5" in caplog.text and not failed.exists()
