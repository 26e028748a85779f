"""The workflow end to end: lint, dry run, a tiny full run in tmp_path, rerun, bad config."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from astropy.table import Table
from conftest import REAL_CAMELS, REPO

pytestmark = pytest.mark.workflow
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
REAL_PROFILES = REAL_CAMELS


#: every report of these runs is built "at" one time (SOURCE_DATE_EPOCH), so that two runs of the
#: same study give the same PDF, byte for byte
BUILD_TIME = "1796000000"


def snakemake(*args, cwd, check=True):
    proc = subprocess.run(
        [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, "SOURCE_DATE_EPOCH": BUILD_TIME},
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


def test_run_works_from_any_directory(tmp_path):
    """`scaling-pipeline run STUDY` outside the checkout said "No Snakefile found": it finds the
    workflow beside the installed package, and the directory it runs in holds the outputs."""
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run",
                           str(REPO / "tests" / "configs" / "tiny.yaml"), "-n"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "--snakefile" in out and "mock_sim" in out and "report" in out
    assert not (tmp_path / "Snakefile").exists()


def _producing_rule(work, path: str) -> str:
    """The rule Snakemake records as having written ``path`` (its metadata store, keyed by the
    path in URL-safe base64)."""
    import base64
    import json

    record = work / ".snakemake" / "metadata" / base64.urlsafe_b64encode(path.encode()).decode()
    return json.loads(record.read_text())["rule"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("tiny")
    text = (REPO / "tests" / "configs" / "tiny.yaml").read_text()
    if REAL_PROFILES.exists():  # the report then overlays the real CAMELS stacks
        text += f"radial_profiles: {{reference_root: {REAL_PROFILES}}}\n"
    (work / "config.yaml").write_text(text)
    snakemake("--cores", "2", cwd=work)
    return work


def test_tiny_study_produces_report_and_tables(tiny_run):
    pdf = tiny_run / "reports" / "tiny" / "report.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000
    res = tiny_run / "results" / "tiny"
    rank = Table.read(res / "rank" / "M_from_Y.ecsv")
    sr = Table.read(res / "sr" / "M_from_Y.fixed.ecsv")
    ev = Table.read(res / "evaluate" / "M_from_Y.ecsv")
    assert rank["selected"].sum() == 2
    assert sr["chosen"].sum() == 1
    # keep_slope (default): x is not an SR feature; the free-slope run has it and is evaluated beside
    free = Table.read(res / "sr" / "M_from_Y.free.ecsv")
    assert "log10_Y200c_ss" not in list(sr.meta["features"])
    assert "log10_Y200c_ss" in list(free.meta["features"])
    assert {"discovered", "alternative"} <= set(ev["relation"])
    assert set(ev["suite"]) == {"IllustrisTNG", "SIMBA"}
    assert "provenance" in ev.meta and "versions" in ev.meta["provenance"]
    # every rule left a log and a benchmark
    for stage in ("ingest", "rank", "sr", "evaluate"):
        assert list((res / "logs" / stage).rglob("*.log")), stage
        assert list((res / "benchmarks" / stage).rglob("*.tsv")), stage
    # the real on-disk layout was written, in the folder of this mock's configuration
    (mock,) = (tiny_run / "data/mock").iterdir()
    assert len(mock.name) == 12 and (mock / "README_mock.txt").exists()
    assert (mock / "Sims/SIMBA/L25n256/LH/LH_1/snapshot_090.hdf5").exists()
    assert (mock / "FOF_Subfind/SIMBA/L25n256/LH/LH_1/groups_090.hdf5").exists()


def test_relation_file_reproduces_the_evaluate_predictions_exactly(tiny_run):
    """The study's relation file, applied to its own haloes (through the CLI, as a user would),
    gives the evaluate stage's residuals and extrapolation flags bit for bit."""
    from pipeline.cli import main as cli_main
    from pipeline.discovery.relation_file import load_relation

    relation_path = tiny_run / "reports" / "tiny" / "relations" / "M_from_Y.json"
    relation = load_relation(relation_path)
    res = tiny_run / "results" / "tiny"
    evaluated = Table.read(res / "evaluate" / "M_from_Y_residuals.h5", path="table")
    assert relation.expression == Table.read(res / "sr" / "M_from_Y.fixed.ecsv").meta["chosen"]
    for sample in ("IllustrisTNG", "SIMBA"):
        out = tiny_run / f"applied_{sample}.ecsv"
        assert cli_main(["apply", str(relation_path), str(res / "halos.h5"), "--out", str(out),
                         "--sample", sample]) == 0
        applied = Table.read(out)
        scored = np.isfinite(applied["log10_M200c"]) & np.isfinite(applied["log10_Y200c_ss"])
        applied = applied[scored]
        expected = evaluated[evaluated["sample"] == sample]
        assert len(applied) == len(expected) > 0
        assert np.array_equal(np.asarray(applied["log10_M200c_residual"]),
                              np.asarray(expected["resid_discovered"]), equal_nan=True)
        assert np.array_equal(np.asarray(applied["outside_domain"]),
                              np.asarray(expected["extrap_discovered"]))


def test_snakemake_report_has_every_figure_and_table_with_its_caption(tiny_run):
    from pipeline.report import ASSET_FILES

    html = tiny_run / "study.html"
    proc = snakemake("--report", str(html), cwd=tiny_run)
    log = proc.stdout + proc.stderr
    text = html.read_text()
    for name in (*ASSET_FILES, "report.pdf"):
        assert f"Adding {name}" in log, name
        assert (tiny_run / "reports/tiny/assets/M_from_Y" / name).exists() or name == "report.pdf"
    # the profile stage's figure: its own job (report_profiles), an asset with its caption
    assert "Adding profiles.svg" in log and (tiny_run / "reports/tiny/assets/profiles.svg").exists()
    captions = REPO / "pipeline" / "report" / "captions"
    for name in (*ASSET_FILES, "profiles.svg"):
        caption = (captions / f"{Path(name).stem}.rst").read_text()
        first_words = " ".join(caption.split()[:2])
        assert first_words in text, name
    assert "Scaling-relation discovery for study" in text


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


def test_report_is_a_typeset_document_with_numbered_figures_tables_and_sections(tiny_run):
    from pypdf import PdfReader

    pdf = tiny_run / "reports/tiny/report.pdf"
    text = _pdf_text(pdf)
    order = ["Scaling-relation study: tiny", "1 Summary", "2 Data", "3 Target M_from_Y",
             "3.1 Ranking", "3.2 Discovered relation", "3.3 Held-out evaluation", "3.4 Transfer",
             "3.5 Residuals vs parameters", "Methods", "References", "Provenance", "Configuration"]
    positions = [text.find(h) for h in order]
    assert all(p >= 0 for p in positions), [h for h, p in zip(order, positions, strict=True) if p < 0]
    assert positions == sorted(positions), order
    # numbered figures and tables, each referenced from the text besides its caption
    for ref in ("Figure 1", "Figure 2", "Table 1", "Table 2"):
        assert text.count(ref) >= 2, ref
    assert "Wadekar" in text and "Breiman" in text  # cited and listed
    # the summary quotes the evaluate table's numbers
    ev = Table.read(tiny_run / "results/tiny/evaluate/M_from_Y.ecsv")
    held = {r["relation"]: r for r in ev[(ev["suite"] == "SIMBA") & (ev["bin"] == "all")]}
    summary = text[text.index("1 Summary"):text.index("2 Data")]
    for rel in ("baseline", "discovered", "blackbox", "published", "floor"):
        if rel == "floor" and not np.isfinite(held[rel]["scatter_log"]):
            # two simulations of a few dozen haloes: the floor's estimate exceeded another
            # relation's scatter, so it is not printed, and the report says why
            assert "not estimable" in held[rel]["note"] and "noise floor not estimable" in text
            continue
        assert f"{held[rel]['scatter_log']:.3f}" in summary, rel
    disc = held["discovered"]
    assert f"{disc['scatter_log_lo68']:.3f} to {disc['scatter_log_hi68']:.3f}" in summary
    assert f"reduction of {100 * disc['reduction_log']:.0f}%" in summary
    assert f"{100 * disc['reduction_log_lo95']:.0f} to {100 * disc['reduction_log_hi95']:.0f}%" in summary
    # two simulations per suite: the intervals resample haloes, and the summary says so
    assert disc["resample_unit"] == "halo (2 simulation(s) < 5)"
    assert "haloes resampled: halo (2 simulation(s) < 5)" in summary
    # PDF metadata and embedded fonts
    reader = PdfReader(pdf)
    assert reader.metadata.title == "Scaling-relation study: tiny"
    assert reader.metadata.author == "scaling-relations-pipeline"
    assert reader.metadata.subject == "study tiny"
    assert len(reader.pages) <= 8  # figures float: no half-empty page before a tall figure
    assert "reports/tiny/relations/M_from_Y.json" in text.replace("/ ", "/")
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()[
                "/FontDescriptor"]
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.get_object()), font


def test_environment_columns_reach_the_study_table(tiny_run):
    halos = Table.read(tiny_run / "results/tiny/halos.h5", path="table")
    assert {"overdensity_2mpc", "d_more_massive_r200c"} <= set(halos.colnames)
    assert "n_neighbours_2mpc" not in halos.colnames
    assert np.isfinite(np.asarray(halos["d_more_massive_r200c"])).all()
    assert (np.asarray(halos["overdensity_2mpc"]) >= -1).all()


def test_profile_stage_table_and_report_figure(tiny_run):
    """Stacked profiles per suite, simulation and mass bin, in the units of the CAMELS files,
    and the report's page comparing them with the real stacks (when those are at hand)."""
    from astropy import units as u

    prof = Table.read(tiny_run / "results/tiny/radial_profiles.h5", path="table")
    assert set(prof["suite"]) == {"IllustrisTNG", "SIMBA"}
    assert set(prof["sim"]) == {"LH_0", "LH_1"}
    assert prof["density_mean"].unit == u.Msun / u.kpc**3
    assert prof["pressure_mean"].unit == u.Msun / u.kpc / u.s**2
    assert {"12-12.3", "12.3-13.1"} <= set(prof["mass_bin"])
    # measured in the ingest job's one pass over each snapshot, and logged there
    # and joined by assemble, which reads the same ingest files for the halo table (one rule
    # consuming every ingest file, not two)
    assert _producing_rule(tiny_run, "results/tiny/radial_profiles.h5") == "assemble"
    assert _producing_rule(tiny_run, "results/tiny/halos.h5") == "assemble"
    ingest_logs = list((tiny_run / "results/tiny/logs/ingest").rglob("*.log"))
    assert len(ingest_logs) == 4
    assert all("pipeline.particles.shells" in p.read_text() for p in ingest_logs)
    # each snapshot's profiles in its ingest file, beside its haloes (one output per job)
    ingest_files = sorted((tiny_run / "results/tiny/halos").rglob("*.h5"))
    assert len(ingest_files) == 4 and not (tiny_run / "results/tiny/radial_profiles").exists()
    for path in ingest_files:
        own = Table.read(path, path="radial_profiles")
        assert len(own) and set(own["mass_bin"]) <= set(prof["mass_bin"])
        assert len(Table.read(path, path="table")) > 0
    text = _pdf_text(tiny_run / "reports/tiny/report.pdf")
    assert "Stacked gas profiles" in text
    if REAL_PROFILES.exists():
        assert "CAMELS 1P fiducial" in text


def test_second_run_has_nothing_to_do(tiny_run):
    proc = snakemake("-n", "--cores", "2", cwd=tiny_run)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_deleted_intermediate_is_rebuilt_identically(tiny_run):
    path = tiny_run / "results/tiny/halos/SIMBA/L25n256/LH/LH_1_090.h5"
    before = Table.read(path, path="table")
    path.unlink()
    snakemake("--cores", "2", str(path.relative_to(tiny_run)), cwd=tiny_run)
    after = Table.read(path, path="table")
    assert (before.as_array() == after.as_array()).all()


def test_two_runs_from_scratch_give_byte_identical_files(tiny_run, tmp_path):
    """Every table, relation file, figure (the per-target SVGs too) and the PDF of a second run
    from scratch, in another folder, equals the first byte for byte (the report built "at" the
    same SOURCE_DATE_EPOCH). Logs and benchmarks (timings) are left out."""
    (tmp_path / "config.yaml").write_text((tiny_run / "config.yaml").read_text())
    snakemake("--cores", "2", cwd=tmp_path)
    compared = 0
    for first in sorted((tiny_run / "results").rglob("*")) + sorted((tiny_run / "reports").rglob("*")):
        rel = first.relative_to(tiny_run)
        if not first.is_file() or {"logs", "benchmarks"} & set(rel.parts) or rel.name.startswith("."):
            continue
        second = tmp_path / rel
        assert second.exists(), rel
        assert first.read_bytes() == second.read_bytes(), rel  # the PDF too: SOURCE_DATE_EPOCH
        compared += 1
    svgs = [p for p in (tiny_run / "reports").rglob("*.svg")]
    assert compared > 20 and len(svgs) >= 6


def test_bad_config_stops_with_the_key(tmp_path):
    text = (REPO / "tests/configs/tiny.yaml").read_text().replace("rank:", "rnak:")
    (tmp_path / "config.yaml").write_text(text)
    proc = snakemake("-n", "--cores", "1", cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "rnak" in proc.stdout + proc.stderr
    assert not Path(tmp_path / "results").exists()


def test_stacks_study_end_to_end(tmp_path):
    from conftest import write_synthetic_profiles

    write_synthetic_profiles(tmp_path / "profiles", n_sims=6)
    shutil.copy(REPO / "tests/configs/tiny_stacks.yaml", tmp_path / "study.yaml")
    snakemake("--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    res = tmp_path / "results" / "tiny-stacks"
    halos = Table.read(res / "halos.h5", path="table")
    assert len(halos) == 2 * 6 * 2 * 4  # suites x sims x snapshots x mass bins
    resid = Table.read(res / "evaluate" / "Y_from_M_residuals.h5", path="table")
    assert {"A_SN1", "resid_baseline", "resid_discovered", "diverged_discovered"} <= set(resid.colnames)
    sr = Table.read(res / "sr" / "Y_from_M.fixed.ecsv")
    # the default choice (one training sample): the simulations at the extremes of a parameter
    assert sr.meta["validation_split"].startswith("extremes of the varied parameters: 2 of 6")
    assert list(sr.meta["features"]) and "cv_split" in Table.read(res / "rank" / "Y_from_M.ecsv").meta

    text = _pdf_text(tmp_path / "reports/tiny-stacks/report.pdf")
    assert "Residuals vs parameters" in text and "stacked gas profiles of the CAMELS" in text
    # the shipped real-data studies are valid configs that plan the expected jobs
    from pipeline.config import load_config

    for study, n_targets in (("camels1p_tng_to_simba.yaml", 3), ("camels1p_simba_to_tng.yaml", 3),
                             ("camels_lh_tng.yaml", 2), ("camels1p_both_to_lh.yaml", 1)):
        cfg = load_config(REPO / "studies" / study)
        assert cfg["data"]["kind"] == "stacks" and len(cfg["targets"]) == n_targets
    lh = load_config(REPO / "studies" / "camels_lh_tng.yaml")
    assert lh["samples"]["TNG-LH"]["missing"] == "skip"
    assert lh["samples"]["TNG-LH"]["root"].endswith("emu_CAMELS")  # a clone, as a user has it


_TWO_ROOTS = """
study: two-roots
data: {kind: stacks, root: onep}
samples:
  LH: {suite: TNG, root: lh, sims: [LH_0..LH_5], snapshots: [24], missing: MISSING}
  TNG-1P: {suite: TNG, sims: [1P_22..1P_25], snapshots: [24]}
  SIMBA-1P: {suite: SIMBA, sims: [1P_22..1P_25], snapshots: [24]}
train: [LH]
holdout: [TNG-1P, SIMBA-1P]
selection: {log10_mass_min_msun: 11.0, log10_mass_max_msun: 13.2}
targets:
  - {name: M_from_Y, y: log10_M200c, x: log10_Y200c_ss, slope: 0.6,
     features: [log10_Y200c_ss, c_gas, f_b]}
rank: {top_k: 2}
"""


def test_samples_read_two_roots_and_skip_what_a_ragged_set_lacks(tmp_path):
    """An LH folder and a 1P folder of the same suite read in place in one study (each sample
    its own root, each root its own stacks cache); the LH set lacks its upper mass bins for most
    simulations: 'missing: error' stops naming them, 'skip' counts them per mass bin; a sample
    whose files are all absent is an error either way."""
    from conftest import write_synthetic_profiles

    from pipeline.io.camels_stacks import profile_path

    write_synthetic_profiles(tmp_path / "onep", suites=("TNG", "SIMBA"), snapshots=((24, 0.54),))
    lh = write_synthetic_profiles(tmp_path / "lh", suites=("TNG",), snapshots=((24, 0.54),),
                                  sim_names=[f"LH_{i}" for i in range(6)],
                                  omega_m=lambda i: 0.15 + 0.06 * i)
    for i in range(1, 6):  # as in CAMELS LH: the top bins exist for few simulations
        profile_path(lh, "TNG", f"LH_{i}", 24, "12.3-13.1").unlink()
    for i in range(3, 6):
        profile_path(lh, "TNG", f"LH_{i}", 24, "12-12.3").unlink()
    (tmp_path / "study.yaml").write_text(_TWO_ROOTS.replace("MISSING", "error"))
    proc = snakemake("-n", "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "8 of 56 stacked-profile files the samples ask for do not exist" in out
    assert "sample 'LH': simulation LH_1, snapshot 024, mass bin 12.3-13.1" in out
    assert "missing: skip" in out

    (tmp_path / "study.yaml").write_text(_TWO_ROOTS.replace("MISSING", "skip"))
    snakemake("results/two-roots/halos.h5", "--cores", "2", "--configfile", "study.yaml",
              cwd=tmp_path)
    caches = sorted(p.name for p in (tmp_path / "results/_stacks").iterdir())
    assert len(caches) == 2  # one per root
    halos = Table.read(tmp_path / "results/two-roots/halos.h5", path="table")
    counts = {s: int(np.sum(halos["sample"] == s)) for s in ("LH", "TNG-1P", "SIMBA-1P")}
    assert counts == {"LH": 6 * 4 - 8, "TNG-1P": 16, "SIMBA-1P": 16}
    lh_rows = halos[halos["sample"] == "LH"]
    np.testing.assert_allclose(lh_rows["f_b"], 0.049 / lh_rows["Omega_m"])
    assert len(set(np.round(lh_rows["f_b"], 6))) == 6
    assert np.all(halos[halos["sample"] == "TNG-1P"]["f_b"] == pytest.approx(0.049 / 0.3))
    missing = halos.meta["inputs_missing"]
    assert set(missing) == {"LH"}
    assert missing["LH"]["12.3-13.1"] == {"expected": 6, "found": 1}
    assert missing["LH"]["12-12.3"] == {"expected": 6, "found": 3}
    assert missing["LH"]["11-11.5"] == {"expected": 6, "found": 6}

    # nothing of the sample exists (a wrong root): an error even with skip
    (tmp_path / "study.yaml").write_text(_TWO_ROOTS.replace("MISSING", "skip")
                                         .replace("root: lh", "root: onep"))
    proc = snakemake("-n", "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "sample 'LH': none of its 24 stacks exists under onep" in proc.stdout + proc.stderr


def _legacy_tree(root: Path) -> None:
    """Two suites x two simulations in the CAMELS legacy layout (IllustrisTNG chunked)."""
    from pipeline.io.params import write_simulation_params
    from pipeline.mock.simulate import MockOptions, write_mock_snapshot

    for suite, n_files in (("IllustrisTNG", 2), ("SIMBA", 1)):
        params = {}
        for i, sim in enumerate(("LH_0", "LH_1")):
            params[sim] = {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 0.5 + i, "A_AGN1": 1.0,
                           "A_SN2": 1.0, "A_AGN2": 1.0, "seed": i}
            write_mock_snapshot(
                root / f"Sims/{suite}/{sim}/snap_033.hdf5",
                root / f"FOF_Subfind/{suite}/{sim}/fof_subhalo_tab_033.hdf5",
                root / f"truth/{suite}_{sim}.h5", suite, sim, 33, params[sim],
                MockOptions(seed=i, log10_halo_mass_min_msun=12.2, background_particles=500,
                            files_per_snapshot=n_files, snapshots={33: 0.0}))
        write_simulation_params(root / f"Sims/{suite}/CosmoAstroSeed_{suite}_L25n256_LH.txt", params)


def _legacy_config(root: Path, snapshot: int = 33) -> str:
    return f"""
study: legacy
data: {{kind: camels, root: {root}, layout: camels_legacy}}
samples:
  IllustrisTNG: {{suite: IllustrisTNG, sims: ["LH_*"], snapshots: [{snapshot}]}}
  SIMBA: {{suite: SIMBA, sims: [LH_0, LH_1], snapshots: [{snapshot}]}}
train: [IllustrisTNG]
holdout: [SIMBA]
ingest: {{log10_mass_min_msun: 12.2, chunk_particles: 20000}}
selection: {{log10_mass_min_msun: 12.2, min_gas_particles: 10}}
targets: [{{name: M_from_Y, y: log10_M200c, x: log10_Y200c_ss, slope: 0.6}}]
features: [log10_Y200c_ss, c_gas]
rank: {{top_k: 2}}
"""


def test_real_layout_ingest_and_assemble(tmp_path):
    _legacy_tree(tmp_path / "sims")
    assert (tmp_path / "sims/Sims/IllustrisTNG/LH_1/snap_033.1.hdf5").exists()  # chunked
    (tmp_path / "study.yaml").write_text(_legacy_config(tmp_path / "sims"))
    snakemake("results/legacy/halos.h5", "--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    halos = Table.read(tmp_path / "results/legacy/halos.h5", path="table")
    assert set(halos["suite"].astype(str)) == {"IllustrisTNG", "SIMBA"}
    assert set(halos["sim"].astype(str)) == {"LH_0", "LH_1"}
    tng = halos[(halos["suite"].astype(str) == "IllustrisTNG") & (halos["sim"].astype(str) == "LH_1")]
    assert np.all(tng["A_SN1"] == 1.5)  # joined from the parameter file
    per_snap = Table.read(tmp_path / "results/legacy/halos/IllustrisTNG/L25n256/LH/LH_1_033.h5", path="table")
    assert len(per_snap.meta["snapshot_files"]) == 2


def test_particle_samples_read_their_own_roots_and_skip_missing_snapshots(tmp_path):
    """Particle data: the SIMBA sample reads a second tree (its own root), asks for a simulation
    that tree lacks and says missing: skip; the study runs on what exists and counts the rest."""
    _legacy_tree(tmp_path / "sims")
    shutil.copytree(tmp_path / "sims", tmp_path / "other")
    text = _legacy_config(tmp_path / "sims").replace(
        "SIMBA: {suite: SIMBA, sims: [LH_0, LH_1], snapshots: [33]}",
        f"SIMBA: {{suite: SIMBA, sims: [LH_0..LH_2], snapshots: [33], root: {tmp_path / 'other'}, "
        "missing: skip}")
    (tmp_path / "study.yaml").write_text(text)
    snakemake("results/legacy/halos.h5", "--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    halos = Table.read(tmp_path / "results/legacy/halos.h5", path="table")
    simba = halos[halos["sample"].astype(str) == "SIMBA"]
    assert set(simba["sim"].astype(str)) == {"LH_0", "LH_1"}
    assert halos.meta["inputs_missing"] == {"SIMBA": {"snapshots": {"expected": 3, "found": 2}}}
    per_snap = Table.read(tmp_path / "results/legacy/halos/SIMBA/L25n256/LH/LH_1_033.h5", path="table")
    assert all(str(tmp_path / "other") in f for f in per_snap.meta["snapshot_files"])
    np.testing.assert_allclose(halos["f_b"], halos["Omega_b"] / halos["Omega_m"])
    assert np.allclose(halos["Omega_b"], 0.049)  # the mock's header OmegaBaryon
    # without skip: stopped before any job, naming what is missing
    (tmp_path / "study.yaml").write_text(text.replace(", missing: skip", ""))
    proc = snakemake("-n", "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "sample 'SIMBA': simulation LH_2, snapshot 033: no snapshot" in out
    # a simulation whose catalog alone is missing: the catalog is named (it read "no files")
    for catalog in (tmp_path / "other" / "FOF_Subfind" / "SIMBA" / "LH_1").glob("fof_subhalo_tab_033*"):
        catalog.unlink()
    (tmp_path / "study.yaml").write_text(text)
    proc = snakemake("-n", "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert "sample SIMBA: 2 of 3 (simulation, snapshot) lack a file and are skipped" in out
    assert "no catalog" in out and "LH_1" in out


def test_catalog_input_on_the_legacy_layout_needs_no_snapshot(tmp_path):
    """data.input: catalog on real-layout trees (chunked catalogs), with every snapshot deleted:
    the rows come from the catalogs alone, the parameters are joined as for particles."""
    _legacy_tree(tmp_path / "sims")
    for snap in (tmp_path / "sims/Sims").rglob("snap_*.hdf5"):
        snap.unlink()
    text = _legacy_config(tmp_path / "sims").replace("layout: camels_legacy}",
                                                     "layout: camels_legacy, input: catalog}")
    text = text.replace("targets: [{name: M_from_Y, y: log10_M200c, x: log10_Y200c_ss, slope: 0.6}]",
                        "targets: [{name: m, y: log10_Mtot, x: log10_M_virial, slope: 1, "
                        "allow_truth_features: true}]")
    text = text.replace("features: [log10_Y200c_ss, c_gas]", "features: [r_host_r200c, Mstar_over_M_virial]")
    text += ("catalog: {rows: subhalos, log10_mass_min_msun: 10.0, min_particles: 0}\n"
             "evaluate: {bin_column: log10_Mtot, mass_bins: [10, 16]}\n")
    (tmp_path / "study.yaml").write_text(text)
    snakemake("results/legacy/halos.h5", "--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    halos = Table.read(tmp_path / "results/legacy/halos.h5", path="table")
    assert set(halos["suite"].astype(str)) == {"IllustrisTNG", "SIMBA"}
    tng = halos[(halos["suite"].astype(str) == "IllustrisTNG") & (halos["sim"].astype(str) == "LH_1")]
    assert len(tng) and np.all(tng["A_SN1"] == 1.5) and (tng["is_central"] == 0).any()
    rows = Table.read(tmp_path / "results/legacy/halos/IllustrisTNG/L25n256/LH/LH_1_033.h5", path="table")
    assert len(rows.meta["catalog_files"]) == 2  # both chunks of the catalog


def test_a_deleted_chunk_is_named_as_it_was_written(tmp_path):
    """With one chunk of a chunked snapshot deleted, the error named snap_033.0.0.hdf5 and
    snap_033.0.1.hdf5, files that never existed."""
    _legacy_tree(tmp_path / "sims")
    (tmp_path / "sims/Sims/IllustrisTNG/LH_1/snap_033.1.hdf5").unlink()
    (tmp_path / "study.yaml").write_text(_legacy_config(tmp_path / "sims"))
    job = "results/legacy/halos/IllustrisTNG/L25n256/LH/LH_1_033.h5"
    proc = snakemake(job, "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    log = (tmp_path / "results/legacy/logs/ingest/IllustrisTNG/L25n256/LH/LH_1_033.log").read_text()
    assert proc.returncode != 0 and not (tmp_path / job).exists()
    assert f"['{tmp_path}/sims/Sims/IllustrisTNG/LH_1/snap_033.1.hdf5']" in log
    assert ".0.0." not in log and ".0.1." not in log
    # chunk 0 of a catalog: named before any job runs
    (tmp_path / "sims/FOF_Subfind/IllustrisTNG/LH_0/fof_subhalo_tab_033.0.hdf5").unlink()
    proc = snakemake("-n", "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert ("simulation LH_0, snapshot 033: no catalog chunk "
            f"{tmp_path}/sims/FOF_Subfind/IllustrisTNG/LH_0/fof_subhalo_tab_033.0.hdf5 (1 other") in out


def test_chunked_mock_snapshots_are_written_and_ingested(tmp_path):
    """mock.files_per_snapshot: 2 passed the schema, then every mock job failed with 'output
    files are missing'."""
    text = (REPO / "tests/configs/tiny.yaml").read_text()
    text = text.replace("  background_particles: 1000\n",
                        "  background_particles: 1000\n  files_per_snapshot: 2\n")
    (tmp_path / "config.yaml").write_text(text)
    job = "results/tiny/halos/SIMBA/L25n256/LH/LH_0_090.h5"
    snakemake(job, "--cores", "2", cwd=tmp_path)
    sim = "SIMBA/L25n256/LH/LH_0"
    written = sorted(p.name for p in (tmp_path / "data/mock").rglob(f"{sim}/*_090*.hdf5"))  # keyed
    assert written == ["groups_090.0.hdf5", "groups_090.1.hdf5", "snapshot_090.0.hdf5",
                       "snapshot_090.1.hdf5"]
    halos = Table.read(tmp_path / job, path="table")
    assert len(halos) > 0 and len(halos.meta["snapshot_files"]) == 2


def test_missing_snapshot_number_names_the_file(tmp_path):
    _legacy_tree(tmp_path / "sims")
    (tmp_path / "study.yaml").write_text(_legacy_config(tmp_path / "sims", snapshot=32))
    proc = snakemake("-n", "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "sample 'IllustrisTNG': simulation LH_0, snapshot 032: no snapshot" in out
    assert "snap_032.hdf5" in out and "8 of 8 snapshot and catalog files" in out
    assert len(out.strip().splitlines()) < 20, out


def test_yaml_syntax_error_in_the_study_config_names_file_line_and_column(tmp_path):
    text = (REPO / "tests/configs/tiny.yaml").read_text().replace("\ndata:\n", "\ndata:\n   bad: [\n", 1)
    (tmp_path / "config.yaml").write_text(text)
    proc = snakemake("-n", "--cores", "1", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "config file config.yaml, line" in out and "column" in out, out[-2000:]
    assert not (tmp_path / "results").exists()


def test_mock_refuses_a_data_root_holding_other_files(tmp_path):
    """data.kind: mock writes into data.root: a directory of real (or any other) files is named
    and left alone; an earlier mock of this pipeline (with its marker) is fine."""
    text = (REPO / "tests/configs/tiny.yaml").read_text()
    (tmp_path / "config.yaml").write_text(text)
    root = tmp_path / "data" / "mock"
    (root / "Sims").mkdir(parents=True)
    (root / "my_simulation.hdf5").write_bytes(b"\x89HDF")
    proc = snakemake("-n", "--cores", "1", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "data.root" in out and "my_simulation.hdf5" in out, out[-2000:]
    assert sorted(p.name for p in root.iterdir()) == ["Sims", "my_simulation.hdf5"]
    (root / "my_simulation.hdf5").unlink()
    (root / "README_mock.txt").write_text("marker\n")  # a mock written before the keyed folders
    assert snakemake("-n", "--cores", "1", cwd=tmp_path, check=False).returncode == 0
    # keyed folders of other mocks (their marker inside) are fine too
    (root / "README_mock.txt").unlink()
    (root / "Sims").rmdir()
    (root / "0123456789ab").mkdir()
    (root / "0123456789ab" / "README_mock.txt").write_text("marker\n")
    assert snakemake("-n", "--cores", "1", cwd=tmp_path, check=False).returncode == 0


def test_studies_that_want_other_mocks_never_share_their_files(tmp_path):
    """The mock's files live in a folder keyed by its configuration: a study with other mock
    options (or simulations) plans its own mock, one with the same options reuses the files."""
    text = (REPO / "tests/configs/tiny.yaml").read_text()
    (tmp_path / "config.yaml").write_text(text)
    snakemake("results/tiny/halos/SIMBA/L25n256/LH/LH_0_090.h5", "--cores", "2", cwd=tmp_path)
    (first,) = (tmp_path / "data/mock").iterdir()
    (tmp_path / "same.yaml").write_text(text.replace("study: tiny", "study: tiny-again"))
    plan = snakemake("results/tiny-again/halos/SIMBA/L25n256/LH/LH_0_090.h5", "-n", "--cores", "1",
                     "--configfile", "same.yaml", cwd=tmp_path)
    assert "mock_sim" not in plan.stdout and "rule ingest" in plan.stdout
    (tmp_path / "other.yaml").write_text(text.replace("seed: 7", "seed: 8"))
    plan = snakemake("-n", "--cores", "1", "--configfile", "other.yaml", cwd=tmp_path)
    assert "mock_sim" in plan.stdout
    assert f"data/mock/{first.name}/" not in plan.stdout  # the other mock writes elsewhere


SAMPLES_STUDY = """
study: {study}
data: {{kind: stacks, root: profiles}}
samples:
  tng-1p:   {{suite: TNG, set: 1P, sims: [1P_22..1P_27], snapshots: [31, 32]}}
  tng-lh:   {{suite: TNG, set: LH, sims: [LH_0..LH_5], snapshots: [33], mass_bins: [12-12.3, 12.3-13.1]}}
  simba-1p: {{suite: SIMBA, set: 1P, sims: [1P_22..1P_27], snapshots: [31..33]}}
train: [tng-1p]
holdout: [tng-lh, simba-1p]
selection: {{log10_mass_min_msun: 11.0, log10_mass_max_msun: 13.2}}
targets:
  - name: Y_from_M
    y: log10_Y200c_ss
    x: log10_M200c
    slope: "5/3"
    features: [log10_M200c, c_gas, Z_mw200c, A_SN1, A_AGN2]
features: [log10_M200c]
rank: {{n_estimators: 30, top_k: 2, repeats: 3, threads: 1}}
sr: {{generations: 10, population_size: 80, max_evaluations: 10000, seeds: [0], threads: 1,
     validation_groups: sim}}
evaluate: {{mass_bins: [11.0, 12.0, 13.2], bootstrap: 50, min_halos_per_bin: 5}}
stacks: {{block_size: 4}}
"""


def _samples_tree(root: Path) -> None:
    """Stacks of two sets: TNG 1P (Nhalos headers, 16 radii) and TNG LH (nprofs headers, 14 radii,
    Omega_m varying), and SIMBA 1P; snapshots 31-33."""
    from conftest import write_synthetic_profiles

    snaps = ((33, 0.0), (32, 0.05), (31, 0.1))
    write_synthetic_profiles(root, suites=("TNG", "SIMBA"), n_sims=6, snapshots=snaps)
    write_synthetic_profiles(root, suites=("TNG",), sim_names=[f"LH_{i}" for i in range(6)],
                             snapshots=snaps[:1], header_variant="nprofs", n_radii=14, seed=1,
                             omega_m=lambda i: 0.2 + 0.04 * i)


def test_samples_study_on_stacks_of_two_sets_and_header_variants(tmp_path):
    """Train on TNG 1P at z > 0, hold out TNG LH at z = 0 (other set, other header, two mass bins)
    and SIMBA 1P at every z; then a second study reading the same files reuses the stack tables."""
    _samples_tree(tmp_path / "profiles")
    (tmp_path / "study.yaml").write_text(SAMPLES_STUDY.format(study="samples"))
    snakemake("--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    res = tmp_path / "results" / "samples"
    halos = Table.read(res / "halos.h5", path="table")
    counts = {s: int(np.sum(halos["sample"] == s)) for s in ("tng-1p", "tng-lh", "simba-1p")}
    assert counts == {"tng-1p": 6 * 2 * 4, "tng-lh": 6 * 1 * 2, "simba-1p": 6 * 3 * 4}
    lh = halos[halos["sample"] == "tng-lh"]
    assert set(lh["n_halos_from"]) == {"nprofs"} and set(lh["snapshot"]) == {33}
    assert set(halos["n_halos_from"][halos["sample"] == "tng-1p"]) == {"Nhalos"}
    # the halo count of the LH stacks came from 'nprofs': said once for the study (log, report)
    assert halos.meta["stacks_halo_count_from_nprofs"] == {"tng-lh": 12}
    assert "12 of 132 stack files have no 'Nhalos'" in (res / "logs/assemble.log").read_text()
    assert np.ptp(np.asarray(lh["Omega_m"])) > 0.1  # the LH set's cosmology, from simulations.csv
    ev = Table.read(res / "evaluate" / "Y_from_M.ecsv")
    assert set(ev["sample"]) == {"tng-1p", "tng-lh", "simba-1p"}
    assert set(ev["role"][ev["sample"] == "tng-lh"]) == {"holdout"}
    text = _pdf_text(tmp_path / "reports/samples/report.pdf")
    assert "tng-lh" in text and "LH_0..LH_5" in text and "Omega" in text  # parameters that vary
    assert "12 stack file(s) carry no Nhalos header line" in " ".join(text.split())
    # a second study on the same files: the cached stack blocks are not measured again
    (tmp_path / "study2.yaml").write_text(SAMPLES_STUDY.format(study="samples-again"))
    proc = snakemake("-n", "--cores", "2", "--configfile", "study2.yaml", cwd=tmp_path)
    plan = proc.stdout + proc.stderr
    assert "assemble" in plan and "ingest_stacks" not in plan


def test_missing_stack_file_names_sample_simulation_and_snapshot(tmp_path):
    _samples_tree(tmp_path / "profiles")
    (tmp_path / "profiles/SIMBA/SIMBA_1P_25_032_uw_11-11.5.txt").unlink()
    (tmp_path / "study.yaml").write_text(SAMPLES_STUDY.format(study="samples"))
    proc = snakemake("-n", "--cores", "1", "--configfile", "study.yaml", cwd=tmp_path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "sample 'simba-1p': simulation 1P_25, snapshot 032, mass bin 11-11.5" in out
    assert "1 of 132 stacked-profile files" in out
    assert len(out.strip().splitlines()) < 20, out


def test_catalog_study_end_to_end_reads_no_snapshot(tmp_path):
    """Input kind catalog: subhalo rows from the mock's group catalogs, with the host's
    environment; the evaluation bins on log10_Mtot and reports the fractions within 0.1 and
    0.2 dex, the report says what the rows are."""
    shutil.copy(REPO / "tests/configs/tiny_catalog.yaml", tmp_path / "study.yaml")
    dry = snakemake("-n", "--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    assert "ingest_catalog" in dry.stdout and "rule ingest:" not in dry.stdout
    snakemake("--cores", "2", "--configfile", "study.yaml", cwd=tmp_path)
    res = tmp_path / "results" / "tiny-catalog"
    halos = Table.read(res / "halos.h5", path="table")
    assert {"Mtot", "sigma_v", "r_host_r200c", "overdensity_3mpc", "log10_M_virial"} <= set(halos.colnames)
    assert set(halos["sample"]) == {"IllustrisTNG", "Astrid", "SIMBA"}
    assert (np.asarray(halos["log10_Mtot"]) >= 10.5).all() and (halos["is_central"] == 0).any()
    assert not (res / "radial_profiles.h5").exists()
    with h5py.File(next((res / "halos").rglob("*.h5"))) as ingest_file:
        assert "radial_profiles" not in ingest_file
    log = next((res / "logs" / "ingest_catalog").rglob("*.log")).read_text()
    assert "subhalos kept" in log
    ev = Table.read(res / "evaluate" / "Mtot_from_virial.ecsv")
    held = ev[(ev["sample"] == "SIMBA") & (ev["bin"] == "all") & (ev["relation"] == "discovered")][0]
    assert held["log10_M_hi"] == 15.5 and 0.9 <= held["frac_within_0p2dex"] <= 1.0
    assert "floor" not in set(ev["relation"])  # the mock's latent properties are the haloes'
    text = _pdf_text(tmp_path / "reports" / "tiny-catalog" / "report.pdf")
    assert "subhalos (no particles read)" in text and "within 0.1/0.2" in text
    # the shipped catalog studies are valid and plan catalog jobs only (no particle ingest)
    for study in ("mock_subhalo_mass.yaml", "mock_subhalo_environment.yaml"):
        dry = snakemake("-n", "--cores", "2", "--configfile", str(REPO / "studies" / study),
                        cwd=tmp_path)
        assert "ingest_catalog" in dry.stdout and "rule ingest:" not in dry.stdout, study


_CLONE_STUDY = """
study: clone
data: {kind: stacks, root: /nonexistent/emu_CAMELS}
samples:
  TNG: {suite: IllustrisTNG, set: 1P, sims: [1P_22..1P_25], redshifts: [0.0]}
  SIMBA: {suite: SIMBA, set: 1P, sims: [1P_22..1P_25], snapshots: [33]}
train: [TNG]
holdout: [SIMBA]
selection: {log10_mass_min_msun: 11.0, log10_mass_max_msun: 13.2}
targets:
  - {name: M_from_Y, y: log10_M200c, x: log10_Y200c_ss, slope: 0.6,
     features: [log10_Y200c_ss, c_gas]}
rank: {top_k: 1}
"""


def test_a_clone_of_emu_camels_is_read_as_cloned_with_one_option(tmp_path):
    """scaling-pipeline run STUDY --data-root CLONE: the study's data.root replaced by the
    clone, no hand-made table; a clone holding only the weighted profile where the unweighted one
    is asked for is named."""
    from conftest import write_emu_clone

    clone = write_emu_clone(tmp_path)
    (tmp_path / "study.yaml").write_text(_CLONE_STUDY)
    run = [sys.executable, "-m", "pipeline.cli", "run", "study.yaml", "--data-root", str(clone),
           "-n", "--snakefile", str(REPO / "Snakefile")]
    proc = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "ingest_stacks" in proc.stdout + proc.stderr
    (override,) = (tmp_path / ".snakemake/scaling-pipeline").glob("data-root-*.yaml")
    assert str(clone) in override.read_text()
    # SIMBA 1P_23 at 033: only its weighted profile is there
    for path in (clone / "emulator_profiles/1P_set/SIMBA").glob("SIMBA_1P_23_033_uw_*.txt"):
        path.unlink()
    proc = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "simulation 1P_23, snapshot 033, mass bin 11-11.5" in out
    assert "only the weighted profile" in out and "SIMBA_1P_23_033_w.txt" in out
