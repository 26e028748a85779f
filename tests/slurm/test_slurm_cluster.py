"""The tiny study on a real SLURM scheduler: a one-node cluster on loopback (slurmctld + slurmd,
munge), `snakemake --profile profiles/slurm`, outputs checked, daemons stopped.

Needs root and slurm-wlm + munge from Debian (`.ci/run` installs them through
`tests/slurm/single_node_cluster.sh install`); skipped, with the reason, where either is missing.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest
from astropy.table import Table
from conftest import REPO

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]
CLUSTER = REPO / "tests" / "slurm" / "single_node_cluster.sh"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the test cluster's daemons run as root"
    for tool in ("slurmctld", "slurmd", "munged", "sbatch", "squeue"):
        if shutil.which(tool) is None:
            return f"{tool} not found: install slurm-wlm and munge ({CLUSTER.name} install)"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm_state")
    proc = subprocess.run(["bash", str(CLUSTER), "start", str(state)], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode == 3:  # a real cluster's configuration is on this machine: leave it alone
        pytest.skip(proc.stderr.strip())
    try:
        assert proc.returncode == 0, f"test cluster did not start:\n{proc.stdout}\n{proc.stderr}"
        yield state
    finally:
        subprocess.run(["bash", str(CLUSTER), "stop", str(state)], timeout=60)


def test_tiny_study_runs_on_slurm_with_grouped_ingest(slurm_cluster, tmp_path):
    shutil.copy(REPO / "tests" / "configs" / "tiny.yaml", tmp_path / "config.yaml")
    # --cores 2: this node's size, so the group job is packed to fit it (the profile says 32);
    # a 5 s first status check instead of 40 s keeps the test short; the job logs are kept.
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--profile", str(REPO / "profiles" / "slurm"), "--cores", "2", "--slurm-no-account",
           "--slurm-init-seconds-before-status-checks", "5", "--slurm-keep-successful-logs"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]

    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    # 2 mock_params, 1 group (4 mock_sim + 4 ingest, each with its profiles in its file),
    # assemble (joining the profiles too), report_profiles, rank, sr (free and fixed slope in one
    # job), evaluate, report_assets, report: 10 SLURM jobs for 18 jobs (mock_root runs where
    # snakemake runs)
    assert len(submitted) == 10, log[-5000:]
    assert log.count("Group job per_simulation") == 1
    group_logs = list((tmp_path / ".snakemake" / "slurm_logs").glob("group_per_simulation*/*.log"))
    assert len(group_logs) == 1
    group_log = group_logs[0].read_text()
    assert "--executor slurm-jobstep" in group_log  # ran inside the allocation, through srun
    for suite in ("IllustrisTNG", "SIMBA"):
        for sim in ("LH_0", "LH_1"):
            assert f"results/tiny/halos/{suite}/L25n256/LH/{sim}_090.h5" in group_log
            assert f"results/tiny/logs/mock_sim/{suite}_L25n256_LH/{sim}_090.log" in group_log

    pdf = tmp_path / "reports" / "tiny" / "report.pdf"
    assert pdf.stat().st_size > 10_000
    ev = Table.read(tmp_path / "results" / "tiny" / "evaluate" / "M_from_Y.ecsv")
    assert set(ev["suite"]) == {"IllustrisTNG", "SIMBA"}
    assert len(list((tmp_path / "results" / "tiny" / "halos").glob("*/L25n256/LH/LH_?_090.h5"))) == 4
    # the cluster ran them: squeue still lists every finished job (MinJobAge = 600 s)
    queue = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i %T"], capture_output=True,
                           text=True, check=True).stdout
    states = dict(line.split() for line in queue.splitlines())
    assert all(states.get(job) == "COMPLETED" for job in submitted), queue
