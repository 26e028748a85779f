"""The workflow end to end: lint, dry run, a tiny full run in tmp_path, rerun, bad config."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from astropy.table import Table
from conftest import REPO

pytestmark = pytest.mark.workflow
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, cwd, check=True):
    proc = subprocess.run(
        [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def test_lint_is_clean():
    proc = snakemake("--lint", cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_default_study_dry_run(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    proc = snakemake("-n", "--cores", "2", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    for rule in ("mock_sim", "ingest", "assemble", "rank", "sr", "evaluate", "report"):
        assert rule in out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("tiny")
    shutil.copy(REPO / "tests" / "configs" / "tiny.yaml", work / "config.yaml")
    snakemake("--cores", "2", cwd=work)
    return work


def test_tiny_study_produces_report_and_tables(tiny_run):
    pdf = tiny_run / "reports" / "tiny" / "report.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000
    res = tiny_run / "results" / "tiny"
    rank = Table.read(res / "rank" / "M_from_Y.ecsv")
    sr = Table.read(res / "sr" / "M_from_Y.ecsv")
    ev = Table.read(res / "evaluate" / "M_from_Y.ecsv")
    assert rank["selected"].sum() == 2
    assert sr["chosen"].sum() == 1
    assert set(ev["suite"]) == {"IllustrisTNG", "SIMBA"}
    assert "provenance" in ev.meta and "versions" in ev.meta["provenance"]
    # every rule left a log and a benchmark
    for stage in ("ingest", "rank", "sr", "evaluate"):
        assert list((res / "logs" / stage).rglob("*.log")), stage
        assert list((res / "benchmarks" / stage).rglob("*.tsv")), stage
    # the real on-disk layout was written
    assert (tiny_run / "data/mock/Sims/SIMBA/L25n256/LH/LH_1/snapshot_090.hdf5").exists()
    assert (tiny_run / "data/mock/FOF_Subfind/SIMBA/L25n256/LH/LH_1/groups_090.hdf5").exists()


def test_report_text_has_sections_and_numbers(tiny_run):
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(tiny_run / "reports/tiny/report.pdf").pages)
    for heading in ("Scaling-relation study 'tiny'", "Data", "Feature ranking", "Pareto front",
                    "Scatter vs mass", "Scatter and its reduction", "Provenance"):
        assert heading in text, heading
    ev = Table.read(tiny_run / "results/tiny/evaluate/M_from_Y.ecsv")
    row = ev[(ev["suite"] == "SIMBA") & (ev["bin"] == "all") & (ev["constants"] == "refit")][0]
    assert f"{row['base_frac']:.3f}" in text
    assert f"{row['disc_frac']:.3f}" in text


def test_second_run_has_nothing_to_do(tiny_run):
    proc = snakemake("-n", "--cores", "2", cwd=tiny_run)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_deleted_intermediate_is_rebuilt_identically(tiny_run):
    path = tiny_run / "results/tiny/halos/SIMBA/LH_1_090.h5"
    before = Table.read(path, path="table")
    path.unlink()
    snakemake("--cores", "2", str(path.relative_to(tiny_run)), cwd=tiny_run)
    after = Table.read(path, path="table")
    assert (before.as_array() == after.as_array()).all()


def test_bad_config_stops_with_the_key(tmp_path):
    text = (REPO / "tests/configs/tiny.yaml").read_text().replace("rank:", "rnak:")
    (tmp_path / "config.yaml").write_text(text)
    proc = snakemake("-n", "--cores", "1", cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "rnak" in proc.stdout + proc.stderr
    assert not Path(tmp_path / "results").exists()


def test_profiles_study_end_to_end(tmp_path):
    from conftest import write_synthetic_profiles

    write_synthetic_profiles(tmp_path / "profiles")
    shutil.copy(REPO / "tests/configs/tiny_profiles.yaml", tmp_path / "study.yaml")
    snakemake("--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    res = tmp_path / "results" / "tiny-profiles"
    halos = Table.read(res / "halos.h5", path="table")
    assert len(halos) == 2 * 4 * 2 * 4  # suites x sims x snapshots x mass bins
    resid = Table.read(res / "evaluate" / "Y_from_M_residuals.h5", path="table")
    assert {"A_SN1", "resid_base_refit", "resid_disc_refit"} <= set(resid.colnames)
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "reports/tiny-profiles/report.pdf").pages)
    assert "Residuals vs feedback parameters" in text
    assert "profiles" in text
    # the shipped real-data studies are valid configs that plan the expected jobs
    for study in ("camels1p_tng_to_simba.yaml", "camels1p_simba_to_tng.yaml"):
        from pipeline.config import load_config

        cfg = load_config(REPO / "studies" / study)
        assert cfg["data"]["kind"] == "profiles" and len(cfg["targets"]) == 3
