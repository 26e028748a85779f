"""Catalog benchmark: input kind ``catalog`` over 3 suites x 1000 CAMELS-size group catalogs.

    python bench/catalog.py [--suites 3] [--files-per-suite 1000] [--subhalos 10000]
                            [--workers 2] [--data DIR]

Writes (once, then reused from bench/_data/catalog/) synthetic Subfind catalogs with every field
the catalog reader knows, ~``--subhalos`` subhaloes and a tenth as many groups each (a CAMELS
L25n256 catalog at z = 0 has ~10^4 subhaloes above 20 particles), then reads them all into
subhalo rows with ``--workers`` processes (the pipeline's one job per catalog at --cores N), and
for reference times a raw h5py read of the same datasets. Last line:
``catalog: files=<n> seconds=<s> files_per_s=<r>`` (the reader, all files, wall time).
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent


def write_catalog(path: Path, n_sub: int, seed: int) -> None:
    from pipeline.io.gadget_writer import write_group_catalog

    rng = np.random.default_rng(seed)
    n_grp = max(n_sub // 10, 1)
    f32 = np.float32
    grp_of = np.sort(rng.integers(0, n_grp, n_sub))
    n_subs = np.bincount(grp_of, minlength=n_grp)
    first = np.concatenate([[0], np.cumsum(n_subs)[:-1]])
    first = np.where(n_subs > 0, first, -1)
    groups = {
        "GroupPos": rng.uniform(0, 25000, (n_grp, 3)).astype(f32),
        "Group_M_Crit200": 10 ** rng.uniform(-1, 3, n_grp).astype(f32),
        "Group_R_Crit200": rng.uniform(50, 800, n_grp).astype(f32),
        "Group_M_Crit500": 10 ** rng.uniform(-1, 3, n_grp).astype(f32),
        "Group_R_Crit500": rng.uniform(30, 500, n_grp).astype(f32),
        "GroupMass": 10 ** rng.uniform(-1, 3, n_grp).astype(f32),
        "GroupMassType": rng.uniform(0, 10, (n_grp, 6)).astype(f32),
        "GroupSFR": rng.uniform(0, 5, n_grp).astype(f32),
        "GroupGasMetallicity": rng.uniform(0, 0.03, n_grp).astype(f32),
        "GroupNsubs": n_subs.astype(np.int32),
        "GroupFirstSub": first.astype(np.int32),
        "GroupLen": rng.integers(20, 10**6, n_grp).astype(np.int32),
    }
    subs = {
        "SubhaloPos": rng.uniform(0, 25000, (n_sub, 3)).astype(f32),
        "SubhaloGrNr": grp_of.astype(np.int32),
        "SubhaloLen": rng.integers(20, 10**5, n_sub).astype(np.int32),
        "SubhaloMass": 10 ** rng.uniform(-2, 2, n_sub).astype(f32),
        "SubhaloMassType": rng.uniform(0, 1, (n_sub, 6)).astype(f32),
        "SubhaloBHMass": rng.uniform(0, 1e-3, n_sub).astype(f32),
        "SubhaloVmax": rng.uniform(20, 500, n_sub).astype(f32),
        "SubhaloVmaxRad": rng.uniform(1, 50, n_sub).astype(f32),
        "SubhaloVelDisp": rng.uniform(10, 300, n_sub).astype(f32),
        "SubhaloHalfmassRad": rng.uniform(1, 100, n_sub).astype(f32),
        "SubhaloHalfmassRadType": rng.uniform(0, 100, (n_sub, 6)).astype(f32),
        "SubhaloSFR": rng.uniform(0, 2, n_sub).astype(f32),
        "SubhaloGasMetallicity": rng.uniform(0, 0.03, n_sub).astype(f32),
        "SubhaloStarMetallicity": rng.uniform(0, 0.03, n_sub).astype(f32),
        "SubhaloSpin": rng.normal(0, 100, (n_sub, 3)).astype(f32),
    }
    header = {"BoxSize": 25000.0, "Redshift": 0.0, "Time": 1.0, "HubbleParam": 0.6711,
              "Omega0": 0.3, "OmegaLambda": 0.7}
    write_group_catalog(path, header, groups, subs)


def _read_rows(path: str) -> int:
    from pipeline.ingest.catalog import CatalogOptions, catalog_rows

    return len(catalog_rows(path, CatalogOptions(log10_mass_min_msun=8.0, min_particles=20)))


def _raw(path: str) -> int:
    n = 0
    with h5py.File(path, "r") as fh:
        for kind in ("Group", "Subhalo"):
            for name in fh[kind]:
                n += fh[f"{kind}/{name}"][...].size
    return n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suites", type=int, default=3)
    p.add_argument("--files-per-suite", type=int, default=1000)
    p.add_argument("--subhalos", type=int, default=10000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--data", type=Path, default=HERE / "_data" / "catalog")
    a = p.parse_args()
    root = a.data / f"n{a.subhalos}"
    files = [root / f"suite{s}" / f"LH_{i}" / "groups_090.hdf5"
             for s in range(a.suites) for i in range(a.files_per_suite)]
    t0 = time.perf_counter()
    todo = [f for f in files if not f.exists()]
    for f in todo:
        f.parent.mkdir(parents=True, exist_ok=True)
        write_catalog(f, a.subhalos, seed=zlib.crc32(str(f.relative_to(root)).encode()))
    size_gb = sum(f.stat().st_size for f in files) / 1e9
    print(f"catalogs: {len(files)} files, {size_gb:.2f} GB, {a.subhalos} subhaloes each "
          f"({len(todo)} written in {time.perf_counter() - t0:.1f} s)")
    paths = [str(f) for f in files]
    results = {}
    cases = (("raw h5py read of every dataset", _raw), ("catalog reader -> subhalo rows", _read_rows))
    for name, fn in cases:
        t0 = time.perf_counter()
        with ProcessPoolExecutor(a.workers) as pool:
            total = sum(pool.map(fn, paths, chunksize=16))
        results[name] = (time.perf_counter() - t0, total)
    print(f"{'case':34s} {'seconds':>8s} {'files/s':>8s}  workers {a.workers}")
    for name, (sec, total) in results.items():
        print(f"{name:34s} {sec:8.1f} {len(paths) / sec:8.1f}  ({total:,} values or rows)")
    sec = results["catalog reader -> subhalo rows"][0]
    raw = results["raw h5py read of every dataset"][0]
    print(json.dumps({"ratio_to_raw_read": round(sec / raw, 2)}))
    print(f"catalog: files={len(paths)} seconds={sec:.1f} files_per_s={len(paths) / sec:.1f}")


if __name__ == "__main__":
    main()
