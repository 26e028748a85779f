"""DAG benchmark: build the job graph and dry-run a CAMELS LH-size study (1000 simulations x
2 snapshots x 3 suites = 6000 ingest jobs), against a minimal three-rule Snakefile with the same
6000 jobs timed in the same run.

    python bench/dag.py [--sims N] [--repeats N] [--keep DIR] [--samples]

With ``--samples`` the study is written as four samples (IllustrisTNG at each snapshot, SIMBA,
Astrid) instead of one per suite: the same 6000 snapshots, planned through the samples.

The data tree holds empty placeholder snapshots and group catalogs in the camels2024 layout (a dry
run never opens them). Each case is a fresh `snakemake -n` process, so Python start-up, config
validation and Snakemake's own imports count, as they do for a user. A third case, the minimal
Snakefile with the directives the conventions ask of every rule (log, benchmark, threads,
resources), shows what those cost Snakemake by themselves; a fourth, the minimal Snakefile with
the garbage-collector threshold the pipeline's rule files set (:mod:`pipeline.rules.planning`), what
that setting alone buys (the pipeline's time over that case's is the like-for-like ratio of
Snakemake's per-job work). The cases take turns (--repeats turns);
the table gives each case's best and median seconds and the median over turns of its ratio to the
minimal Snakefile in the same turn (robust to a shared machine's slow spells). The pipeline's
input functions must stay cheap: per job they only format paths and stat one file. Last line:
``dag: jobs=<N> seconds=<best s> ratio=<median ratio> ratio_same_gc=<median ratio to the fourth
case>``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
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

#: The directives the project's conventions ask of every rule (log, benchmark, threads,
#: resources), added to the minimal Snakefile's two working rules: what they cost Snakemake alone.
CONVENTIONS = {
    "assemble": """    log: "results/logs/assemble.log"
    benchmark: "results/benchmarks/assemble.tsv"
    threads: 1
    resources: mem_mb=2000, runtime=10
""",
    "ingest": """    log: "results/logs/ingest/{{suite}}/{{sim}}_{{snap}}.log"
    benchmark: "results/benchmarks/ingest/{{suite}}/{{sim}}_{{snap}}.tsv"
    threads: 2
    resources: mem_mb=2500, runtime=30
""",
}


def with_conventions(snakefile: str) -> str:
    """The minimal Snakefile with :data:`CONVENTIONS` in its assemble and ingest rules (their
    commands write the log)."""
    for rule, directives in CONVENTIONS.items():
        head = f"rule {rule}:\n"
        body_start = snakefile.index(head) + len(head)
        shell_at = snakefile.index("    shell:", body_start)
        snakefile = snakefile[:shell_at] + directives + snakefile[shell_at:]
    return snakefile.replace('shell: "touch {{output}}"', 'shell: "touch {{output}} > {{log}} 2>&1"')


#: The first lines of the minimal Snakefile with the pipeline's garbage-collector setting.
GC_SETTING = "from pipeline.rules.planning import raise_gc_threshold\nraise_gc_threshold()\n"


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
    parser.add_argument("--repeats", type=int, default=3, help="turns (one dry run per case each)")
    parser.add_argument("--keep", type=Path, help="build the trees here and keep them")
    parser.add_argument("--samples", action="store_true", help="write the study as four samples")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="dag_bench_"))
    pipeline_dir, minimal_dir = base / "pipeline", base / "minimal"
    conventions_dir, gc_dir = base / "conventions", base / "minimal_gc"
    try:
        for work in (pipeline_dir, minimal_dir, conventions_dir, gc_dir):
            make_tree(work / "data", args.sims)
        write = study_config_samples if args.samples else study_config
        (pipeline_dir / "config.yaml").write_text(write(args.sims))
        minimal, conventions = minimal_dir / "Snakefile", conventions_dir / "Snakefile"
        with_gc = gc_dir / "Snakefile"
        minimal_text = MINIMAL_SNAKEFILE.format(suites=SUITES, n_sims=args.sims, snaps=SNAPSHOTS)
        minimal.write_text(minimal_text)
        with_gc.write_text(GC_SETTING + minimal_text)
        conventions.write_text(with_conventions(MINIMAL_SNAKEFILE).format(
            suites=SUITES, n_sims=args.sims, snaps=SNAPSHOTS))

        cases = (("minimal 3-rule Snakefile", minimal_dir, minimal),
                 ("minimal + conventions", conventions_dir, conventions),
                 ("minimal + gc threshold", gc_dir, with_gc),
                 ("pipeline", pipeline_dir, REPO / "Snakefile"))
        # the cases take turns, so that a slow spell of a shared machine hits a turn's cases
        # alike; the ratio is the median over turns of each turn's own ratio
        runs = {name: [] for name, _, _ in cases}
        for _ in range(args.repeats):
            for name, work, snakefile in cases:
                runs[name].append(dry_run(work, snakefile))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    reference = [seconds for seconds, _ in runs[cases[0][0]]]
    print(f"{'case':<26} {'jobs':>6} {'best s':>7} {'median s':>9} {'ratio':>6}")
    for name, _, _ in cases:
        seconds = [s for s, _ in runs[name]]
        ratio = statistics.median(s / r for s, r in zip(seconds, reference, strict=True))
        print(f"{name:<26} {runs[name][0][1]:>6} {min(seconds):>7.2f} "
              f"{statistics.median(seconds):>9.2f} {ratio:>6.2f}")
    seconds = [s for s, _ in runs["pipeline"]]
    same_gc = [s for s, _ in runs["minimal + gc threshold"]]
    print(f"dag: jobs={runs['pipeline'][0][1]} seconds={min(seconds):.1f} "
          f"ratio={statistics.median(s / r for s, r in zip(seconds, reference, strict=True)):.2f} "
          f"ratio_same_gc={statistics.median(s / r for s, r in zip(seconds, same_gc, strict=True)):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
