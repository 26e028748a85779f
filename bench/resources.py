"""Per-rule resources measured by a finished study, for the rules' `resources:` (pipeline/rules/*.smk).

    python bench/resources.py [results/<study>/benchmarks ...] [--headroom 2.0]

Reads every Snakemake benchmark file (`benchmark:` of each rule: wall seconds `s`, peak
resident memory `max_rss` in MB) and prints per rule: jobs, median and maximum run time, maximum
memory, and the suggested `mem_mb` (max_rss x headroom, at least 500 MB, rounded up to 100 MB) and
`runtime` (max s x headroom, in minutes, at least 5). Run it on a study of the size you will
submit: memory of ingest is bounded by `ingest.chunk_particles`, not by the snapshot size, but
run time grows with the particle count.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def read_benchmarks(directory: Path) -> dict[str, list[tuple[float, float]]]:
    """rule -> [(seconds, max_rss_mb)] from ``<directory>/<rule>[/...]/*.tsv``."""
    if not directory.is_dir():
        raise SystemExit(f"no benchmark directory {directory} (run the study first)")
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for tsv in sorted(directory.rglob("*.tsv")):
        rule = tsv.relative_to(directory).parts[0].removesuffix(".tsv")
        with tsv.open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                rss = row.get("max_rss", "NA")
                out[rule].append((float(row["s"]), float(rss) if rss not in ("", "NA", "-") else 0.0))
    return dict(out)


def suggest(samples: list[tuple[float, float]], headroom: float) -> tuple[int, int]:
    """(mem_mb, runtime in minutes) for a rule's measured (seconds, max_rss_mb) samples."""
    max_s = max(s for s, _ in samples)
    max_rss = max(r for _, r in samples)
    mem_mb = max(500, math.ceil(max_rss * headroom / 100) * 100)
    runtime_min = max(5, math.ceil(max_s * headroom / 60))
    return mem_mb, runtime_min


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path,
                        default=sorted(Path("results").glob("*/benchmarks")))
    parser.add_argument("--headroom", type=float, default=2.0)
    args = parser.parse_args(argv)
    if not args.dirs:
        raise SystemExit("no results/*/benchmarks found: run a study first or name the directories")
    merged: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for d in args.dirs:
        for rule, samples in read_benchmarks(d).items():
            merged[rule].extend(samples)

    print(f"{'rule':<16} {'jobs':>5} {'median_s':>9} {'max_s':>8} {'max_rss_mb':>11} "
          f"{'mem_mb':>7} {'runtime':>7}")
    suggestions = {}
    for rule in sorted(merged):
        samples = merged[rule]
        mem_mb, runtime = suggest(samples, args.headroom)
        suggestions[rule] = (mem_mb, runtime)
        print(f"{rule:<16} {len(samples):>5} {statistics.median(s for s, _ in samples):>9.1f} "
              f"{max(s for s, _ in samples):>8.1f} {max(r for _, r in samples):>11.0f} "
              f"{mem_mb:>7} {runtime:>7}")
    print("\nresources: (each rule's `resources:` in pipeline/rules/*.smk)")
    for rule, (mem_mb, runtime) in suggestions.items():
        print(f"  {rule}:\n    mem_mb: {mem_mb}\n    runtime: {runtime}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
