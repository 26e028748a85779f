"""Discovery benchmark: rank + symbolic regression at CAMELS LH size.

The default study's halo table (run ``snakemake --cores 2`` first) is tiled: every training halo
is copied ``k`` times into new simulations (``LH_3`` -> ``LH_3.t1``, ...) with a tiny jitter
(1e-4 relative) on every feature and the target, so that the table grows while its physics stays
the same; the held-out SIMBA-like suite is not tiled. For each size, one fresh process runs the
rank stage and the SR stage (both slope constraints' default: the slope kept) with the default
study's options, then scores the chosen equation on the held-out suite:

    python bench/discovery.py [--factors 1 10 100] [--halos results/mock-demo/halos.h5]

Columns: training rows, rows the engine searched on (``sr.max_search_rows``, a subsample
stratified by simulation), seconds of rank and of SR, peak RSS of the process, the held-out log
scatter of the chosen equation [dex] and of the self-similar relation. Last line (the largest
size): ``discovery: rows=<n> rank_s=<s> sr_s=<s> heldout_scatter=<dex> small_scatter=<dex>``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def tiled(halos, train: list[str], factor: int, seed: int = 0):
    """The training rows repeated ``factor`` times in new simulations, jittered; held-out as is."""
    from astropy.table import vstack

    from pipeline.discovery.dataset import rows_of_samples

    rng = np.random.default_rng(seed)
    base = rows_of_samples(halos, train)
    copies = [base]
    for i in range(1, factor):
        part = base.copy(copy_data=True)
        part["sim"] = [f"{s}.t{i}" for s in np.asarray(part["sim"]).astype(str)]
        for name in part.colnames:
            column = part[name]
            if column.dtype.kind == "f" and column.ndim == 1:
                values = np.asarray(column, dtype=float)
                part[name] = values * (1.0 + 1e-4 * rng.normal(size=len(values))) * (
                    column.unit if column.unit else 1)
        copies.append(part)
    return vstack(copies, metadata_conflicts="silent")


def child(halos_path: str, factor: int) -> None:
    """Rank and SR on the tiled table, the held-out score of the chosen equation (JSON)."""

    from pipeline.config import load_config
    from pipeline.discovery.dataset import (
        Target,
        design_matrix,
        features_with_values,
        rows_of_samples,
        sample_column,
        simulation_ids,
    )
    from pipeline.discovery.rank import RankOptions, rank_features
    from pipeline.discovery.sr.domain import central_extent
    from pipeline.discovery.sr.expressions import to_callable
    from pipeline.discovery.sr.search import SROptions, discover
    from pipeline.io.equations import parse_equation
    from pipeline.io.tables import read_table

    config = load_config(REPO / "config.yaml")
    entry = config["targets"][0]
    target = Target.from_config(entry)
    halos = read_table(halos_path)
    rows = tiled(halos, config["train"], factor)
    features, _ = features_with_values(rows, entry.get("features", config["features"]))
    x, y, used = design_matrix(rows, features, target)
    sims = simulation_ids(rows)[used]
    t0 = time.perf_counter()
    rank = rank_features(x, y, features, RankOptions(**config["rank"]), ungrouped=[target.x],
                         sims=sims)
    rank_s = time.perf_counter() - t0
    chosen = [str(f) for f in rank["feature"][np.asarray(rank["selected"], dtype=bool)]]
    chosen = [f for f in chosen if f != target.x]  # slope kept (the default)
    xs, ys, used = design_matrix(rows, chosen, target)
    held = rows_of_samples(halos, config["holdout"])
    xh, yh, _ = design_matrix(held, chosen, target)
    options = SROptions(**config["sr"])
    t0 = time.perf_counter()
    table = discover(xs, ys, chosen, options, simulation_ids(rows)[used],
                     np.asarray(rows[sample_column(rows)]).astype(str)[used], None,
                     np.vstack([xs, central_extent(xh)]))
    sr_s = time.perf_counter() - t0
    expr = parse_equation(table.meta["chosen"], chosen)
    resid = to_callable(expr, chosen)(xh) - yh
    print(json.dumps({"rows": len(ys), "search_rows": table.meta["n_search"], "rank_s": rank_s,
                      "sr_s": sr_s, "scatter": float(np.std(resid)),
                      "baseline": float(np.std(yh)), "equation": str(expr)}))


def run_child(halos: Path, factor: int) -> tuple[dict, float]:
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(halos), str(factor)],
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child for factor {factor} failed with status {status}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100])
    ap.add_argument("--halos", type=Path, default=REPO / "results" / "mock-demo" / "halos.h5")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child[0], int(a.child[1]))
        return 0
    if not a.halos.exists():
        raise SystemExit(f"{a.halos} not found: run the default study first (snakemake --cores 2)")
    print(f"{'rows':>8} {'searched':>9} {'rank s':>8} {'sr s':>8} {'peak MB':>8} "
          f"{'held-out dex':>13} {'self-similar':>13}  equation")
    results = []
    for factor in a.factors:
        r, rss = run_child(a.halos, factor)
        results.append(r)
        print(f"{r['rows']:>8} {r['search_rows']:>9} {r['rank_s']:>8.1f} {r['sr_s']:>8.1f} "
              f"{rss:>8.0f} {r['scatter']:>13.4f} {r['baseline']:>13.4f}  {r['equation'][:70]}")
    big, small = results[-1], results[0]
    print(f"discovery: rows={big['rows']} rank_s={big['rank_s']:.1f} sr_s={big['sr_s']:.1f} "
          f"heldout_scatter={big['scatter']:.4f} small_scatter={small['scatter']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
