"""DAG benchmark: build the job graph and dry-run a CAMELS LH-size study (1000 simulations x
2 snapshots x 3 suites = 6000 ingest jobs), against a minimal three-rule Snakefile with the same
6000 jobs timed in the same run.

    python bench/dag.py [--sims N] [--repeats N] [--keep DIR] [--samples]

With ``--samples`` the study is written as four samples (IllustrisTNG at each snapshot, SIMBA,
Astrid) instead of one per suite: the same 6000 snapshots, planned through the samples.

The data tree holds empty placeholder snapshots and group catalogs in the camels2024 layout (a dry
run never opens them). Each case is a fresh `snakemake -n` process, so Python start-up, config
validation and Snakemake's own imports count, as they do for a user; the best of --repeats runs is
reported. The pipeline's input functions must stay cheap: per job they only format paths and stat
one file. Last line: ``dag: jobs=<N> seconds=<s>``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUITES = ("IllustrisTNG", "SIMBA", "Astrid")
SNAPSHOTS = (33, 90)

#: Three rules and the same fan-in as the pipeline's ingest -> assemble, on the same files.
MINIMAL_SNAKEFILE = """
SUITES = {suites!r}
SIMS = [f"LH_{{i}}" for i in range({n_sims})]
SNAPS = {snaps!r}
ROOT = "data/Sims"

rule all:
    input: "results/halos.h5"

rule assemble:
    input: expand("results/halos/{{suite}}/{{sim}}_{{snap:03d}}.h5", suite=SUITES, sim=SIMS, snap=SNAPS)
    output: "results/halos.h5"
    shell: "touch {{output}}"

rule ingest:
    input: ROOT + "/{{suite}}/L25n256/LH/{{sim}}/snapshot_{{snap}}.hdf5"
    output: "results/halos/{{suite}}/{{sim}}_{{snap}}.h5"
    shell: "touch {{output}}"
"""


def make_tree(root: Path, n_sims: int) -> None:
    """Empty snapshot and catalog files, and each suite's parameter file, in the camels2024 layout."""
    for suite in SUITES:
        sims_dir = root / "Sims" / suite / "L25n256" / "LH"
        cats_dir = root / "FOF_Subfind" / suite / "L25n256" / "LH"
        lines = ["#Name Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2 seed"]
        for i in range(n_sims):
            sim = f"LH_{i}"
            (sims_dir / sim).mkdir(parents=True, exist_ok=True)
            (cats_dir / sim).mkdir(parents=True, exist_ok=True)
            for snap in SNAPSHOTS:
                (sims_dir / sim / f"snapshot_{snap:03d}.hdf5").touch()
                (cats_dir / sim / f"groups_{snap:03d}.hdf5").touch()
            lines.append(f"{sim} 0.3 0.8 1.0 1.0 1.0 1.0 {i}")
        (sims_dir / f"CosmoAstroSeed_{suite}_L25n256_LH.txt").write_text("\n".join(lines) + "\n")


def study_config(n_sims: int) -> str:
    """One sample per suite (named after it), every snapshot."""
    samples = "\n".join(f"  {s}: {{suite: {s}, sims: [LH_0..LH_{n_sims - 1}], "
                         f"snapshots: {list(SNAPSHOTS)}}}" for s in SUITES)
    return f"""study: dag-bench
data:
  kind: camels
  root: data
samples:
{samples}
train: [IllustrisTNG]
holdout: [SIMBA, Astrid]
targets:
  - {{name: M_from_Y, y: log10_M200c, x: log10_Y200c_ss, slope: 0.6}}
features: [log10_Y200c_ss, c_gas, Mstar_over_Mgas, Z_mw200c]
"""


def study_config_samples(n_sims: int) -> str:
    """The same study as four samples: TNG at snapshot 90 (train), TNG at 33, SIMBA, Astrid."""
    sims = f"[LH_0..LH_{n_sims - 1}]"
    return f"""study: dag-bench
data:
  kind: camels
  root: data
samples:
  tng-90: {{suite: IllustrisTNG, sims: {sims}, snapshots: [90]}}
  tng-33: {{suite: IllustrisTNG, sims: {sims}, snapshots: [33]}}
  simba: {{suite: SIMBA, sims: {sims}, snapshots: {list(SNAPSHOTS)}}}
  astrid: {{suite: Astrid, sims: {sims}, snapshots: {list(SNAPSHOTS)}}}
train: [tng-90]
holdout: [tng-33, simba, astrid]
targets:
  - {{name: M_from_Y, y: log10_M200c, x: log10_Y200c_ss, slope: 0.6}}
features: [log10_Y200c_ss, c_gas, Mstar_over_Mgas, Z_mw200c]
"""


def dry_run(workdir: Path, snakefile: Path) -> tuple[float, int]:
    """Seconds of one `snakemake -n` process and the number of jobs it planned."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--snakefile", str(snakefile),
           "--rerun-triggers", "mtime"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"dry run in {workdir} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    match = re.search(r"^total\s+(\d+)\s*$", proc.stdout + proc.stderr, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no job total in the dry run's output in {workdir}")
    return seconds, int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=1000, help="simulations per suite")
    parser.add_argument("--repeats", type=int, default=2, help="dry runs per case (best is kept)")
    parser.add_argument("--keep", type=Path, help="build the trees here and keep them")
    parser.add_argument("--samples", action="store_true", help="write the study as four samples")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="dag_bench_"))
    pipeline_dir, minimal_dir = base / "pipeline", base / "minimal"
    try:
        for work in (pipeline_dir, minimal_dir):
            make_tree(work / "data", args.sims)
        write = study_config_samples if args.samples else study_config
        (pipeline_dir / "config.yaml").write_text(write(args.sims))
        minimal = minimal_dir / "Snakefile"
        minimal.write_text(MINIMAL_SNAKEFILE.format(suites=SUITES, n_sims=args.sims, snaps=SNAPSHOTS))

        rows = []
        for name, work, snakefile in (("minimal 3-rule Snakefile", minimal_dir, minimal),
                                      ("pipeline", pipeline_dir, REPO / "Snakefile")):
            runs = [dry_run(work, snakefile) for _ in range(args.repeats)]
            rows.append((name, runs[0][1], min(s for s, _ in runs)))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    ref = rows[0][2]
    print(f"{'case':<26} {'jobs':>6} {'seconds':>8} {'ratio':>6}")
    for name, jobs, seconds in rows:
        print(f"{name:<26} {jobs:>6} {seconds:>8.2f} {seconds / ref:>6.2f}")
    _, jobs, seconds = rows[-1]
    print(f"dag: jobs={jobs} seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
