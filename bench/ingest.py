"""Ingest benchmark: a CAMELS-size snapshot (2 x 256^3 particles, ~700 haloes above 1e11 Msun)
against the I/O floor, a raw h5py read of the same datasets in the same run (both from the page
cache), and against what a user would write instead (scipy's periodic cKDTree).

    python bench/ingest.py [--particles-per-type N] [--chunk N] [--threads N] [--runs 5]
                           [--data DIR] [--no-reference]

The snapshot is written once by the mock (CAMELS resolution and layout) to bench/_data/ and reused.
Each case runs in fresh processes whose peak RSS is read with wait4. "cold" is the first call in
a process (it includes loading the compiled kernels from numba's cache, ~0.7 s); "steady" the
following ``--runs`` calls in the same process, reported as median and range. Rows: ingest alone;
ingest with the profile stage in the same pass (what the pipeline runs); the profile stage read
on its own (what the last release added as a second job); the reference: a periodic cKDTree over
the gas and one ``query_ball_point`` per halo for Mgas and Y inside R200c, checked against ingest.
The raw read is re-measured between runs; ratios use its median.
Last line: ``ingest: particles_per_s=<N> ratio_to_raw_read=<R> spread=<lo>-<hi> peak_rss_mb=<M>``
(steady state of the pipeline's one pass, median of the runs, spread = min-max of the ratio).
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
import numpy as np

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


def ingest_child(snap: str, cat: str, chunk: int, threads: int, runs: int, case: str) -> None:
    """Time ``case`` (ingest | one_pass | profiles_alone | reference) ``runs + 1`` times."""
    from pipeline.ingest.particles import IngestOptions, measure_snapshot
    from pipeline.particles.shells import ProfileOptions
    from pipeline.radial_profiles.measure import measure_radial_profiles

    opts = IngestOptions(log10_mass_min_msun=11.0, chunk_particles=chunk, threads=threads)
    profile = ProfileOptions(chunk_particles=chunk)

    def once():
        if case == "ingest":
            return measure_snapshot(snap, cat, opts)[0]
        if case == "one_pass":
            return measure_snapshot(snap, cat, opts, profile)[0]
        if case == "profiles_alone":
            return measure_radial_profiles(snap, cat, profile)
        return ckdtree_reference(snap, cat)

    times, result = [], None
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - t0)
    out = {"cold": times[0], "steady": times[1:], "rows": len(result)}
    if case == "reference":
        halos = measure_snapshot(snap, cat, opts)[0]
        mgas, y = result["Mgas200c"], result["Y200c"]
        out["max_rel_diff"] = float(max(
            np.max(np.abs(mgas / np.asarray(halos["Mgas200c"]) - 1)),
            np.max(np.abs(y / np.asarray(halos["Y200c"]) - 1))))
    print(json.dumps(out))


def ckdtree_reference(snap: str, cat: str) -> dict:
    """What a user would write: the whole gas in memory, a periodic cKDTree, one ball query per
    halo; Mgas and Y inside R200c for the haloes ingest measures (all gas, star-forming gas left
    out of Y as ingest's default rule)."""
    from scipy.spatial import cKDTree

    from pipeline.io.gadget import GroupCatalog, Snapshot
    from pipeline.physics.gas import compton_y_mpc2, temperature_k

    s, c = Snapshot(snap), GroupCatalog(cat)
    hdr = s.header
    g = c.read("Group", ["GroupPos", "Group_M_Crit200", "Group_R_Crit200"])
    keep = g["Group_M_Crit200"] * hdr.mass_to_msun >= 1e11
    box = hdr.box_size_ckpc_h
    with h5py.File(snap, "r") as fh:
        gas = {f: fh[f"PartType0/{f}"][...] for f in GAS_FIELDS if f in fh["PartType0"]}
    pos = np.mod(gas["Coordinates"].astype(float), box)
    pos[pos >= box] = 0.0
    mass = gas["Masses"] * hdr.mass_to_msun
    y_particle = compton_y_mpc2(mass, gas["ElectronAbundance"],
                                temperature_k(gas["InternalEnergy"], gas["ElectronAbundance"]))
    y_particle = np.where(gas["StarFormationRate"] > 0, 0.0, y_particle)
    tree = cKDTree(pos, boxsize=box)
    hits = tree.query_ball_point(np.mod(g["GroupPos"][keep].astype(float), box),
                                 g["Group_R_Crit200"][keep].astype(float))
    return {"Mgas200c": np.array([mass[h].sum() for h in hits]),
            "Y200c": np.array([y_particle[h].sum() for h in hits])}


def run_child(args: list[str]) -> tuple[dict, float]:
    """Run this script as a child; its JSON output and its own peak RSS [MB]."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child {args} failed with status {status}")
    lines = out.strip().splitlines()
    return (json.loads(lines[-1]) if lines else {}), usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--particles-per-type", type=int, default=256**3)
    ap.add_argument("--chunk", type=int, default=2_000_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data", type=Path, default=HERE / "_data" / "ingest")
    ap.add_argument("--no-reference", action="store_true", help="skip the cKDTree reference")
    ap.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    ap.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        ingest_child(a.child[0], a.child[1], int(a.child[2]), int(a.child[3]), int(a.child[4]),
                     a.child[5])
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
    raws = []
    _, n_particles = raw_read_seconds(snap)
    cases = ["ingest", "one_pass", "profiles_alone"] + ([] if a.no_reference else ["reference"])
    results = {}
    for case in cases:
        raws.append(min(raw_read_seconds(snap)[0] for _ in range(3)))
        runs = a.runs if case != "reference" else 1
        results[case] = run_child(["--child", str(snap), str(cat), str(a.chunk), str(a.threads),
                                   str(runs), case])
    raws.append(min(raw_read_seconds(snap)[0] for _ in range(3)))
    raw_s = float(np.median(raws))
    haloes = results["ingest"][0]["rows"]
    print(f"snapshot: {snap} ({os.path.getsize(snap) / 1e9:.2f} GB, {n_particles:,} particles, "
          f"{haloes} haloes measured; chunk {a.chunk:,}, threads {a.threads}, {a.runs} runs)")
    print(f"raw h5py read of the same datasets (I/O floor): median {raw_s:.3f} s, "
          f"range {min(raws):.3f}-{max(raws):.3f} over {len(raws)} measurements")
    names = {"ingest": "ingest (haloes only)", "one_pass": "ingest + profiles, one pass",
             "profiles_alone": "profile stage read alone", "reference": "scipy cKDTree reference"}
    print(f"{'case':<32}{'cold s':>8}{'steady s (median, range)':>28}{'x raw read':>12}{'peak MB':>9}")
    for case in cases:
        r, rss = results[case]
        st = np.asarray(r["steady"])
        print(f"{names[case]:<32}{r['cold']:>8.2f}{np.median(st):>12.2f}  ({st.min():.2f}-{st.max():.2f})"
              f"{'':>6}{np.median(st) / raw_s:>10.2f}{rss:>9.0f}")
    if "reference" in results:
        print(f"cKDTree reference vs ingest: largest relative difference of Mgas200c, Y200c "
              f"{results['reference'][0]['max_rel_diff']:.1e}")
    one = np.asarray(results["one_pass"][0]["steady"])
    two = np.median(results["ingest"][0]["steady"]) + np.median(results["profiles_alone"][0]["steady"])
    print(f"one pass vs two reads (ingest, then profiles alone): {np.median(one):.2f} s vs {two:.2f} s")
    ratios = one / raw_s
    print(f"ingest: particles_per_s={n_particles / np.median(one):.0f} "
          f"ratio_to_raw_read={np.median(ratios):.2f} spread={ratios.min():.2f}-{ratios.max():.2f} "
          f"peak_rss_mb={results['one_pass'][1]:.0f}")


if __name__ == "__main__":
    main()
