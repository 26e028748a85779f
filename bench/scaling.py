"""Multi-core scaling of the whole pipeline: the same mock study run with `snakemake --cores N` for
several N, each in a fresh directory, against the smallest N in the same run.

    python bench/scaling.py [--cores 2 16] [--sims 12] [--out DIR]

The study is the default one (config.yaml) with --sims simulations per suite and the ranking, SR and
evaluate stages allowed all cores (Snakemake caps their threads at --cores). A warm-up run of the tiny
test study first fills numba's kernel cache, so no case pays the compilation. Per case: wall time,
and the summed job times per stage from the benchmark files. Last line:
``scaling: cores=<N> speedup=<x>`` (largest N against the smallest).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from resources import read_benchmarks  # bench/resources.py, beside this script

REPO = Path(__file__).resolve().parents[1]
STAGES = ("mock_sim", "ingest", "assemble", "rank", "sr", "evaluate", "report_assets", "report")


def study_config(n_sims: int, max_threads: int) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["study"] = "scaling"
    for sample in config["samples"].values():
        sample["sims"] = [f"LH_0..LH_{n_sims - 1}"]
    config["rank"]["threads"] = max_threads
    config["sr"]["threads"] = max_threads
    config.setdefault("evaluate", {})["threads"] = max_threads
    return config


def run_study(work: Path, config: dict, cores: int) -> tuple[float, dict[str, float]]:
    """Wall seconds of `snakemake --cores N` and the summed job seconds per stage."""
    work.mkdir(parents=True)
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores",
           str(cores)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"--cores {cores} failed in {work}:\n{proc.stderr[-3000:]}")
    samples = read_benchmarks(work / "results" / config["study"] / "benchmarks")
    return wall, {stage: sum(s for s, _ in rows) for stage, rows in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 16])
    parser.add_argument("--sims", type=int, default=12, help="simulations per suite")
    parser.add_argument("--out", type=Path, help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    cores = sorted(args.cores)

    base = args.out or Path(tempfile.mkdtemp(prefix="scaling_"))
    try:
        warm = base / "warmup"
        warm.mkdir(parents=True)
        shutil.copy(REPO / "tests" / "configs" / "tiny.yaml", warm / "config.yaml")
        subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                        "--cores", str(max(cores))], cwd=warm, check=True, capture_output=True)
        config = study_config(args.sims, max(cores))
        results = {n: run_study(base / f"cores_{n}", config, n) for n in cores}
    finally:
        if args.out is None:
            shutil.rmtree(base, ignore_errors=True)

    ref_wall = results[cores[0]][0]
    n_sims = args.sims * len(config["samples"])
    n_snaps = len({s for sample in config["samples"].values() for s in sample.get("snapshots", [90])})
    print(f"mock study: {n_sims} simulations x {n_snaps} snapshot(s)")
    header = f"{'cores':>5} {'wall_s':>7} {'speedup':>7} " + " ".join(f"{s[:9]:>9}" for s in STAGES)
    print(header + "   (summed job seconds per stage)")
    for n in cores:
        wall, stage_s = results[n]
        cells = " ".join(f"{stage_s.get(s, 0.0):>9.1f}" for s in STAGES)
        print(f"{n:>5} {wall:>7.1f} {ref_wall / wall:>7.2f} {cells}")
    print(f"scaling: cores={cores[-1]} speedup={ref_wall / results[cores[-1]][0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
