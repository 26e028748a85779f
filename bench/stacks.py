"""Stacked-profile ingest at CAMELS LH scale: how long a study of ``--suites`` x ``--sims``
simulations takes to turn the stack files into its halo table, the first time (every block of
simulations measured, in parallel jobs) and for a second study reading the same files (the cached
block tables are reused: only assemble runs).

    python bench/stacks.py [--suites 4] [--sims 1000] [--snapshots 1] [--cores 2] [--keep DIR]

Synthetic files in the CAMELS emu format (all four mass bins, 16 radii). Each case is a fresh
``snakemake --cores N results/<study>/halos.h5`` process, so Snakemake's start-up and DAG count.
Last line: ``stacks: files=<n> cold_s=<s> cached_s=<s>``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import write_synthetic_profiles  # noqa: E402

SUITES = ("IllustrisTNG", "SIMBA", "Astrid", "EAGLE")
SNAPSHOTS = ((33, 0.0), (32, 0.05), (31, 0.1), (30, 0.15))


def study(name: str, suites: list[str], n_sims: int, snapshots: list[int]) -> str:
    samples = "\n".join(f"  {s}: {{suite: {s}, set: LH, sims: [LH_0..LH_{n_sims - 1}], "
                        f"snapshots: {snapshots}}}" for s in suites)
    return f"""study: {name}
data: {{kind: stacks, root: profiles}}
samples:
{samples}
train: [{suites[0]}]
holdout: [{', '.join(suites[1:])}]
targets:
  - {{name: Y_from_M, y: log10_Y200c_ss, x: log10_M200c, slope: 1.6666667}}
features: [log10_M200c, c_gas]
rank: {{top_k: 1}}
"""


def run(workdir: Path, config: str, cores: int) -> float:
    (workdir / "study.yaml").write_text(config)
    name = config.split("\n", 1)[0].split(": ", 1)[1]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores",
           str(cores), f"results/{name}/halos.h5", "--configfile", "study.yaml"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", type=int, default=4)
    parser.add_argument("--sims", type=int, default=1000, help="simulations per suite")
    parser.add_argument("--snapshots", type=int, default=1, help="snapshots per simulation (<= 4)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="build the tree here and keep it")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="stacks_bench_"))
    suites = list(SUITES[:args.suites])
    snaps = SNAPSHOTS[:args.snapshots]
    try:
        t0 = time.perf_counter()
        write_synthetic_profiles(base / "profiles", suites=tuple(suites),
                                 sim_names=[f"LH_{i}" for i in range(args.sims)], snapshots=snaps)
        n_files = sum(1 for _ in (base / "profiles").rglob("*.txt"))
        written = time.perf_counter() - t0
        snap_list = [n for n, _ in snaps]
        cold = run(base, study("stacks-bench", suites, args.sims, snap_list), args.cores)
        cached = run(base, study("stacks-bench-again", suites, args.sims, snap_list), args.cores)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print(f"{'case':<44} {'seconds':>8} {'ratio':>6}")
    print(f"{'write the files (reference)':<44} {written:>8.1f} {1.0:>6.2f}")
    print(f"{'first study: every block measured':<44} {cold:>8.1f} {cold / written:>6.2f}")
    print(f"{'second study, same files: cached blocks':<44} {cached:>8.1f} {cached / written:>6.2f}")
    print(f"stacks: files={n_files} cold_s={cold:.1f} cached_s={cached:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
