"""Ingest benchmark: a CAMELS-size snapshot (2 x 256^3 particles, ~700 haloes above 1e11 Msun)
against the I/O floor, a raw h5py read of the same datasets in the same run (both from the page
cache).

    python bench/ingest.py [--particles-per-type N] [--chunk N] [--threads N] [--data DIR]

The snapshot is written once by the mock (CAMELS resolution and layout) to bench/_data/ and reused.
Each ingest runs in a fresh process whose peak RSS is read with wait4. "cold" is the first call
in a process (it includes loading the compiled kernels from numba's cache, ~0.7 s); "steady" a
second call in the same process. The next chunk is read by a background thread while the kernels
run, so the steady state is bound by the kernels (~30 ns per particle), not by h5py.
Last line: ``ingest: particles_per_s=<N> ratio_to_raw_read=<R> peak_rss_mb=<M>`` (steady state).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import h5py

HERE = Path(__file__).resolve().parent
PARAMS = {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 1.0, "A_AGN1": 1.0, "A_SN2": 1.0, "A_AGN2": 1.0}
GAS_FIELDS = ["Coordinates", "Masses", "InternalEnergy", "ElectronAbundance", "StarFormationRate",
              "GFM_Metallicity"]


def make_snapshot(directory: Path, n_per_type: int) -> None:
    """Write the snapshot (run in a child process, so the parent stays small)."""
    from pipeline.mock.simulate import MockOptions, write_mock_snapshot

    scale = 256**3 / n_per_type  # CAMELS: 6.49e7 (dark matter) and 1.27e7 (gas) Msun/h
    opts = MockOptions(seed=1, dm_particle_mass_msun_h=6.49e7 * scale,
                       gas_particle_mass_msun_h=1.27e7 * scale, log10_halo_mass_min_msun=11.0,
                       total_particles_per_type=n_per_type)
    t0 = time.perf_counter()
    pop = write_mock_snapshot(directory / "snapshot_090.hdf5", directory / "groups_090.hdf5",
                              directory / "truth.h5", "IllustrisTNG", "LH_0", 90, PARAMS, opts)
    (directory / f"done_{n_per_type}.json").write_text(
        json.dumps({"haloes": len(pop), "seconds": time.perf_counter() - t0}))


def raw_read_seconds(snap: Path) -> tuple[float, int]:
    """Read every dataset ingest reads, whole, with h5py (the I/O floor)."""
    t0 = time.perf_counter()
    n = 0
    with h5py.File(snap, "r") as fh:
        for ptype, fields in ((0, GAS_FIELDS), (1, ["Coordinates"]), (4, ["Coordinates", "Masses"])):
            for f in fields:
                data = fh[f"PartType{ptype}/{f}"][...]
                if f == "Coordinates":
                    n += len(data)
    return time.perf_counter() - t0, n


def ingest_child(snap: str, cat: str, chunk: int, threads: int) -> None:
    from pipeline.ingest.particles import IngestOptions, measure_halos

    opts = IngestOptions(log10_mass_min_msun=11.0, chunk_particles=chunk, threads=threads)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        table = measure_halos(snap, cat, opts)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"cold": times[0], "steady": times[1], "haloes": len(table)}))


def run_child(args: list[str]) -> tuple[dict, float]:
    """Run this script as a child; its JSON output and its own peak RSS [MB]."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child {args} failed with status {status}")
    lines = out.strip().splitlines()
    return (json.loads(lines[-1]) if lines else {}), usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--particles-per-type", type=int, default=256**3)
    ap.add_argument("--chunk", type=int, default=2_000_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", type=Path, default=HERE / "_data" / "ingest")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        ingest_child(a.child[0], a.child[1], int(a.child[2]), int(a.child[3]))
        return
    if a.make:
        make_snapshot(a.data, a.particles_per_type)
        return
    snap, cat = a.data / "snapshot_090.hdf5", a.data / "groups_090.hdf5"
    if not (a.data / f"done_{a.particles_per_type}.json").exists():
        a.data.mkdir(parents=True, exist_ok=True)
        _, make_rss = run_child(["--make", "--data", str(a.data),
                                 "--particles-per-type", str(a.particles_per_type)])
        print(f"wrote {snap} (mock generation peak RSS {make_rss:.0f} MB)")
    raw_read_seconds(snap)  # warm the page cache
    raw_s = min(raw_read_seconds(snap)[0] for _ in range(3))
    _, n_particles = raw_read_seconds(snap)
    results = [run_child(["--child", str(snap), str(cat), str(a.chunk), str(a.threads)])
               for _ in range(2)]
    cold = min(r["cold"] for r, _ in results)
    steady = min(r["steady"] for r, _ in results)
    rss = max(m for _, m in results)
    print(f"snapshot: {snap} ({os.path.getsize(snap) / 1e9:.2f} GB, {n_particles:,} particles, "
          f"{results[0][0]['haloes']} haloes measured; chunk {a.chunk:,}, threads {a.threads})")
    print(f"{'step':<34}{'seconds':>9}{'particles/s':>15}{'x raw read':>12}")
    for name, sec in (("raw h5py read (I/O floor)", raw_s), ("ingest, cold (numba start-up)", cold),
                      ("ingest, steady state", steady)):
        print(f"{name:<34}{sec:>9.2f}{n_particles / sec:>15,.0f}{sec / raw_s:>12.2f}")
    print(f"peak RSS of an ingest process: {rss:.0f} MB")
    print(f"ingest: particles_per_s={n_particles / steady:.0f} ratio_to_raw_read={steady / raw_s:.2f} "
          f"peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
