"""Hostile inputs, third round: the inputs that still slipped through (silent drops, a traceback,
messages naming files that never existed or keys the study does not have, scraps of killed runs).
Each stops with a message naming the file, field or key, and leaves no output behind.
docs/input_checks.md lists every check."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from astropy.table import Table
from conftest import REPO, write_sphere_halo
from test_catalog import _catalog  # noqa: I001 (tests/unit is on sys.path)

from pipeline.cli import main
from pipeline.columns.catalog import CATALOG_COLUMNS
from pipeline.config import validate_config
from pipeline.errors import ConfigError, DataError, InputFileError
from pipeline.ingest.assemble import _halo_counts_from_nprofs
from pipeline.ingest.catalog import CatalogOptions, catalog_rows
from pipeline.io.atomic import atomic_path, remove_stale_temporaries, scratch_dir
from pipeline.io.gadget import GroupCatalog, Snapshot, output_name
from pipeline.io.gadget_writer import write_group_catalog
from pipeline.io.layout import chunk_of, chunk_path, chunk_paths
from pipeline.study import validate_study


def _nan_at(path: Path, key: str, row: int) -> None:
    with h5py.File(path, "r+") as fh:
        data = fh[key][...]
        data[row] = np.nan
        fh[key][...] = data


def _catalog_cli(cat: Path, out: Path, capsys, rows: str = "subhalos", columns=()) -> tuple[int, str]:
    code = main(["ingest-catalog", "--catalog", str(cat), "--suite", "S", "--sim", "LH_0",
                 "--snap", "33", "--columns", *columns, "--options",
                 f'{{"rows": "{rows}", "log10_mass_min_msun": 0, "min_particles": 0}}',
                 "--out", str(out)])
    return code, capsys.readouterr().err


# --- catalog fields: every one read is checked for NaN/inf --------------------------------------

def test_nan_subhalo_mass_stops_instead_of_dropping_the_heaviest_subhalo(tmp_path, capsys):
    """It dropped subhalo 0 at the mass cut without a word (171 rows instead of 172)."""
    cat = _catalog(tmp_path / "groups_033.hdf5")
    _nan_at(cat, "Subhalo/SubhaloMass", 0)
    out = tmp_path / "rows.h5"
    code, err = _catalog_cli(cat, out, capsys)
    assert code == 1 and str(cat) in err and "'Subhalo/SubhaloMass'" in err and "[0]" in err
    assert not out.exists() and not list(tmp_path.glob(".rows.h5*"))


def test_nan_velocity_dispersion_stops_instead_of_a_nan_feature(tmp_path, capsys):
    """It kept the row with NaN sigma_v (so NaN M_virial, the x of the study), left out of scoring
    with a warning in one job's log."""
    cat = _catalog(tmp_path / "groups_033.hdf5")
    _nan_at(cat, "Subhalo/SubhaloVelDisp", 1)
    out = tmp_path / "rows.h5"
    code, err = _catalog_cli(cat, out, capsys, columns=["log10_M_virial"])
    assert code == 1 and "'Subhalo/SubhaloVelDisp'" in err and "[1]" in err and not out.exists()


#: fields of integer type (indices, counts): they cannot hold NaN
_INTEGER_FIELDS = {"GroupFirstSub", "GroupLen", "GroupNsubs", "SubhaloGrNr", "SubhaloLen"}


def _every_field_read(rows: str) -> list[tuple[str, str]]:
    specs = {(s.kind, s.field) for s in CATALOG_COLUMNS[rows]}
    specs |= {("Group", f) for f in ("GroupPos", "GroupFirstSub", "Group_R_Crit200", "GroupLen")}
    if rows == "subhalos":
        specs |= {("Subhalo", f) for f in ("SubhaloPos", "SubhaloGrNr", "SubhaloLen")}
    else:
        specs |= {("Subhalo", "SubhaloVmax"), ("Subhalo", "SubhaloVelDisp")}
    return sorted((k, f) for k, f in specs if f not in _INTEGER_FIELDS)


@pytest.mark.parametrize("rows, kind, field", [(rows, kind, field) for rows in ("subhalos", "groups")
                                               for kind, field in _every_field_read(rows)])
def test_every_catalog_field_read_must_be_finite(tmp_path, rows, kind, field):
    """The whole class: a NaN in any field the catalog kind reads names the file and field."""
    cat = _catalog(tmp_path / "groups_033.hdf5")
    _nan_at(cat, f"{kind}/{field}", 1)
    with pytest.raises(InputFileError, match=rf"groups_033\.hdf5.*'{kind}/{field}'.*NaN/inf"):
        catalog_rows(cat, CatalogOptions(rows=rows, log10_mass_min_msun=0, min_particles=0))


def _empty_subhalo_catalog(path: Path) -> Path:
    """Two groups and a Subhalo group with zero rows; the header says so (Nsubgroups = 0)."""
    groups = {"GroupPos": np.array([[100.0] * 3, [5000.0] * 3], dtype=np.float32),
              "Group_M_Crit200": np.array([10.0, 2.0], dtype=np.float32),
              "Group_R_Crit200": np.array([300.0, 150.0], dtype=np.float32),
              "GroupFirstSub": np.array([-1, -1], dtype=np.int32),
              "GroupLen": np.array([5000, 900], dtype=np.int32)}
    subs = {"SubhaloPos": np.zeros((0, 3), dtype=np.float32),
            "SubhaloGrNr": np.zeros(0, dtype=np.int32), "SubhaloLen": np.zeros(0, dtype=np.int32),
            "SubhaloMass": np.zeros(0, dtype=np.float32)}
    write_group_catalog(path, {"BoxSize": 25000.0, "Redshift": 0.0, "HubbleParam": 0.7}, groups, subs)
    return path


def test_a_catalog_without_subhaloes_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    """It raised 'operands could not be broadcast together with shapes (0,) (0,3)'."""
    cat = _empty_subhalo_catalog(tmp_path / "groups_033.hdf5")
    out = tmp_path / "rows.h5"
    code, err = _catalog_cli(cat, out, capsys)
    assert code == 1 and str(cat) in err and "Nsubgroups_Total = 0" in err and not out.exists()
    # group rows need no subhalo, unless the study uses the central's kinematics
    t = catalog_rows(cat, CatalogOptions(rows="groups", log10_mass_min_msun=0, min_particles=0))
    assert len(t) == 2 and "Vmax" not in t.colnames
    with pytest.raises(InputFileError, match=r"groups_033\.hdf5 holds no subhaloes.*'Vmax'"):
        catalog_rows(cat, CatalogOptions(rows="groups", log10_mass_min_msun=0, min_particles=0),
                     columns=["log10_Vmax"])


# --- chunked outputs: missing chunks are named as the writer names them --------------------------

def test_chunk_names_come_from_one_layout_function():
    assert chunk_path("d/snap_099.hdf5", 3) == Path("d/snap_099.3.hdf5")
    assert chunk_paths("d/snap_099.hdf5", 1) == [Path("d/snap_099.hdf5")]
    assert chunk_of("d/snap_099.3.hdf5") == (Path("d/snap_099.hdf5"), 3)
    assert chunk_of("d/snap_099.hdf5") is None and chunk_of("d/.hdf5") is None
    for i in range(3):
        assert chunk_of(chunk_path("d/groups_090.hdf5", i)) == (Path("d/groups_090.hdf5"), i)


@pytest.mark.parametrize("deleted", [0, 1, 2])
def test_a_deleted_chunk_is_named_not_a_file_that_never_existed(tmp_path, capsys, deleted):
    """With chunk 1 deleted the workflow passed chunk 0 alone, and the reader asked for
    snap_033.0.0.hdf5 and snap_033.0.1.hdf5."""
    snap, cat, _ = write_sphere_halo(tmp_path, n_files=3, n_gas=3000)
    chunks = chunk_paths(tmp_path / "snap_033.hdf5", 3)
    chunks[deleted].unlink()
    present = [str(c) for c in chunks if c.exists()]  # what Snakemake's input function finds
    with pytest.raises(InputFileError) as exc:
        Snapshot(output_name(present))
    message = str(exc.value)
    assert f"['{chunks[deleted]}']" in message and "1 of its 3 chunk" in message
    assert ".0.0." not in message and ".0.1." not in message
    out = tmp_path / "out.h5"
    code = main(["ingest", "--snapshot", *present, "--catalog", str(cat), "--suite", "S",
                 "--sim", "LH_0", "--snap", "33", "--options", "{}", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and str(chunks[deleted]) in err and not out.exists()


def test_a_deleted_catalog_chunk_is_named(tmp_path):
    cat = _catalog(tmp_path / "groups_033.hdf5", n_files=2)
    chunk_path(cat, 1).unlink()
    with pytest.raises(InputFileError, match=r"NumFiles=2.*\['.*groups_033\.1\.hdf5'\]"):
        GroupCatalog(output_name([str(chunk_path(cat, 0))]))


# --- configuration --------------------------------------------------------------------------------

@pytest.fixture
def samples_config():
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["samples"] = {"tng-a": {"suite": "IllustrisTNG", "sims": ["LH_0..LH_3"]},
                      "tng-b": {"suite": "IllustrisTNG", "sims": ["LH_4..LH_7"]},
                      "simba": {"suite": "SIMBA", "sims": ["LH_0..LH_5"]}}
    cfg["train"], cfg["holdout"] = ["tng-a", "tng-b"], ["simba"]
    cfg["mock"]["redshifts"] = {90: 0.0}
    return cfg


def test_training_samples_that_share_a_simulation_are_refused(samples_config):
    """Both samples' haloes of LH_3 went into training: that simulation weighed double."""
    assert validate_config(samples_config)["train"] == ["tng-a", "tng-b"]
    samples_config["samples"]["tng-b"]["sims"] = ["LH_3..LH_7"]
    with pytest.raises(ConfigError, match=r"config key 'train': training samples 'tng-a' and "
                                          r"'tng-b' share 1 .*'LH_3', 90"):
        validate_config(samples_config)
    # other snapshots of the same simulation are other haloes: allowed
    samples_config["samples"]["tng-b"]["snapshots"] = [88]
    samples_config["mock"]["redshifts"] = {90: 0.0, 88: 0.1}
    validate_config(samples_config)


def test_an_unknown_mock_suite_is_named_under_the_key_the_study_has(samples_config):
    """It was reported under 'data.suites', a key a samples study does not have."""
    samples_config["samples"]["simba"]["suite"] = "EAGLE"
    with pytest.raises(ConfigError, match=r"config key 'samples\.simba\.suite': the mock has no "
                                          r"suite 'EAGLE'"):
        validate_study(samples_config)


def test_run_names_file_line_and_column_of_a_yaml_error(tmp_path):
    """snakemake --configfile parses the file before any workflow code: it can only say
    'not valid JSON or YAML'. scaling-pipeline run checks the file first, then hands over."""
    bad = tmp_path / "study.yaml"
    bad.write_text("study: x\ndata:\n  kind: mock\n   root: data/mock\n")
    cli = [sys.executable, "-m", "pipeline.cli", "run"]
    proc = subprocess.run([*cli, str(bad), "--snakefile", str(REPO / "Snakefile"), "-n"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f"config file {bad}, line 4, column 8: not valid YAML" in proc.stderr
    assert not (tmp_path / ".snakemake").exists()  # snakemake never started
    good = tmp_path / "good.yaml"
    good.write_text((REPO / "tests/configs/tiny.yaml").read_text())
    proc = subprocess.run([*cli, str(good), "--snakefile", str(REPO / "Snakefile"), "-n"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "mock_sim" in proc.stdout + proc.stderr and not (tmp_path / "results").exists()


# --- scraps of killed runs -----------------------------------------------------------------------

def test_a_killed_writer_leaves_temporaries_that_the_rerun_removes(tmp_path, caplog):
    """kill -9 during a write left .LH_1_090.h5.<random>.tmp.h5 for good."""
    out = tmp_path / "halos" / "LH_0_033.h5"
    script = textwrap.dedent(f"""
        import os, signal
        from pipeline.io.atomic import atomic_path, scratch_dir
        with scratch_dir({str(out)!r}) as work, atomic_path({str(out)!r}) as tmp:
            (work / "figure.svg").write_text("x")
            tmp.write_bytes(b"half a table")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO)
    assert proc.returncode == -signal.SIGKILL
    scraps = sorted(p.name for p in out.parent.iterdir())
    assert len(scraps) == 2 and all(s.startswith(".LH_0_033.h5.") for s in scraps), scraps
    assert not out.exists()
    # the job that owns the output runs again: its scraps go, the output is complete
    snap, cat, _ = write_sphere_halo(tmp_path, n_gas=3000)
    with caplog.at_level("INFO"):
        assert main(["ingest", "--snapshot", str(snap), "--catalog", str(cat), "--suite", "S",
                     "--sim", "LH_0", "--snap", "33", "--options", '{"log10_mass_min_msun": 10.0}',
                     "--out", str(out)]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["LH_0_033.h5"]
    assert "interrupted earlier run" in caplog.text


def test_stale_temporaries_of_other_outputs_are_left_alone(tmp_path):
    keep = [tmp_path / ".other.h5.abc.tmp.h5", tmp_path / "a.h5.x.tmp.h5", tmp_path / ".a.h5",
            tmp_path / ".a.h5.x.k2j4.tmp.x"]  # the last: a temporary of another output, 'a.h5.x'
    for p in keep:
        p.write_text("")
    stale = tmp_path / ".a.h5.q1w2.tmp.h5"
    stale.write_text("")
    stale_dir = tmp_path / ".a.h5.z9.tmpdir"
    stale_dir.mkdir()
    assert sorted(remove_stale_temporaries(tmp_path / "a.h5")) == [stale, stale_dir]
    stale_dir.mkdir()
    with scratch_dir(tmp_path / "a.h5") as work:
        assert not stale_dir.exists() and work.is_dir()
        with atomic_path(tmp_path / "a.h5") as tmp:
            assert work.is_dir()  # the writer's own scratch directory survives its atomic write
            tmp.write_text("done")
    assert (tmp_path / "a.h5").read_text() == "done" and not work.exists()
    assert all(p.exists() for p in keep)


# --- stack files without an Nhalos line -----------------------------------------------------------

def test_halo_counts_read_from_nprofs_are_counted_per_sample(caplog):
    table = Table({"sample": ["lh", "lh", "1p", "1p"],
                   "n_halos_from": ["nprofs", "nprofs", "Nhalos", "Nhalos"]})
    with caplog.at_level("WARNING"):
        assert _halo_counts_from_nprofs(table) == {"lh": 2}
    assert "2 of 4 stack files have no 'Nhalos'" in caplog.text
    assert _halo_counts_from_nprofs(table[2:]) == {}
    assert _halo_counts_from_nprofs(Table({"sample": ["a"]})) == {}


def test_data_error_for_a_catalog_with_no_groups(tmp_path):
    path = tmp_path / "groups.hdf5"
    write_group_catalog(path, {"BoxSize": 25000.0, "Redshift": 0.0, "HubbleParam": 0.7},
                        {"GroupPos": np.zeros((0, 3), np.float32)}, {})
    with pytest.raises(DataError, match=r"groups\.hdf5 holds no groups \(Header/Ngroups_Total = 0\)"):
        catalog_rows(path, CatalogOptions(rows="groups"))
    assert os.path.exists(path)


def test_run_without_a_workflow_beside_the_package_names_where_it_looked(tmp_path, monkeypatch):
    """`run` outside the checkout finds the Snakefile beside the installed package; where there
    is none (a non-editable install), the error says where it looked and what to do."""
    import pipeline.cli as cli
    from pipeline.errors import PipelineError

    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site-packages" / "pipeline" / "cli.py"))
    with pytest.raises(PipelineError, match=r"no Snakefile in this directory and none at .*"
                                            r"site-packages/Snakefile.*pip install -e \."):
        cli._workflow_snakefile()
    assert not (tmp_path / "site-packages").exists()  # nothing created while looking
