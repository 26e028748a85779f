"""bench/dag.py at a small size: its placeholder tree dry-runs through the pipeline with every
ingest job planned (kind camels, single-file snapshots: wildcard-pattern inputs, parameters joined
at assemble), and its last line has the documented form."""

import importlib.util
import re
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.workflow

_spec = importlib.util.spec_from_file_location("dag_bench", REPO / "bench" / "dag.py")
dag_bench = importlib.util.module_from_spec(_spec)
sys.modules["dag_bench"] = dag_bench
_spec.loader.exec_module(dag_bench)


#: the documented last line: jobs, best seconds, ratio to the minimal Snakefile and to the same
#: with the pipeline's garbage-collector threshold
LAST_LINE = r"dag: jobs=(\d+) seconds=([\d.]+) ratio=([\d.]+) ratio_same_gc=([\d.]+)"


def test_dag_bench_plans_every_job(tmp_path, capsys):
    assert dag_bench.main(["--sims", "3", "--repeats", "1", "--keep", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(LAST_LINE, last)
    assert match, last
    # 3 suites x 3 sims x 2 snapshots ingests (each also measuring its radial profiles) +
    # assemble (joining the profiles too), report_profiles, rank, sr (free and fixed slope in
    # one job), evaluate, report, report_assets, all
    assert int(match.group(1)) == 18 + 1 + 7


def test_dag_bench_plans_a_study_of_samples(tmp_path, capsys):
    """The same snapshots written as four samples plan the same jobs (4 samples x 3 sims)."""
    assert dag_bench.main(["--sims", "3", "--repeats", "1", "--keep", str(tmp_path), "--samples"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert int(re.fullmatch(LAST_LINE, last).group(1)) == 18 + 1 + 7


def test_dag_bench_conventions_case_adds_the_directives():
    """The reference with the conventions' directives is the minimal Snakefile plus log,
    benchmark, threads and resources in its two working rules, and nothing else."""
    plain = dag_bench.MINIMAL_SNAKEFILE.format(suites=("A",), n_sims=1, snaps=(90,))
    both = dag_bench.with_conventions(dag_bench.MINIMAL_SNAKEFILE).format(
        suites=("A",), n_sims=1, snaps=(90,))
    assert both.count("log:") == both.count("benchmark:") == both.count("resources:") == 2
    assert both.count("{log}") == 2 and plain.count("rule ") == both.count("rule ") == 3


def test_stacks_bench_measures_cold_and_cached(capsys):
    import importlib.util as iu

    spec = iu.spec_from_file_location("stacks_bench", REPO / "bench" / "stacks.py")
    bench = iu.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--suites", "2", "--sims", "6"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"stacks: files=48 cold_s=[\d.]+ cached_s=[\d.]+", last), last
