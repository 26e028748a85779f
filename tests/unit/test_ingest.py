"""Ingest: analytic spheres, the periodic box edge, brute force on mock data, chunked files."""

import numpy as np
import pytest
from astropy import units as u
from conftest import BOX, H, write_sphere_halo

from pipeline.ingest.particles import IngestOptions, measure_halos
from pipeline.io.gadget import Snapshot
from pipeline.io.tables import read_table
from pipeline.particles.apertures import HaloApertures

SIGMA_T, K_B, ME_C2, M_P = 6.6524587321e-29, 1.380649e-23, 8.1871057769e-14, 1.67262192369e-27
MSUN, MPC = 1.98840987e30, 3.0856775814913673e22


def analytic_y_mpc2(gas_mass_msun, temperature_k, xe):
    n_e = xe * 0.76 * gas_mass_msun * MSUN / M_P
    return SIGMA_T * K_B * temperature_k * n_e / ME_C2 / MPC**2


def test_uniform_isothermal_sphere(tmp_path):
    snap, cat, truth = write_sphere_halo(tmp_path)
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0))
    assert len(t) == 1
    row = t[0]
    # every gas particle of the sphere lies inside R200c = R_sphere; the background lies outside
    assert t["Mgas200c"].quantity[0].to_value(u.Msun) == pytest.approx(truth["gas_mass_msun"], rel=1e-6)
    assert t["Y200c"].unit == u.Mpc**2
    assert row["Y200c"] == pytest.approx(
        analytic_y_mpc2(truth["gas_mass_msun"], truth["temperature_k"], truth["xe"]), rel=1e-4)
    assert row["T_mw200c"] == pytest.approx(truth["temperature_k"], rel=1e-4)
    # uniform density: M(<r) ~ r^3, so c_gas = (1/2)^3 and Mgas500 = (R500/R200)^3 Mgas200
    n = truth["n_gas"]
    assert row["c_gas"] == pytest.approx(0.125, abs=4 * np.sqrt(0.125 * 0.875 / n))
    frac500 = (330.0 / 500.0) ** 3
    assert row["Mgas500c"] / row["Mgas200c"] == pytest.approx(frac500, abs=4 * np.sqrt(frac500 / n))
    assert row["Y500c"] / row["Y200c"] == pytest.approx(row["Mgas500c"] / row["Mgas200c"], rel=1e-5)
    assert row["Mstar200c"] == pytest.approx(truth["star_mass_msun"], rel=1e-6)
    assert row["Mdm200c"] == pytest.approx(truth["dm_mass_msun"], rel=1e-6)  # from MassTable
    assert row["Z_mw200c"] == pytest.approx(0.01, rel=1e-5)
    # physical units, no h: R200c = 500 ckpc/h at z = 0
    assert row["R200c"] == pytest.approx(0.5 / H, rel=1e-6)
    assert row["M200c"] == pytest.approx(truth["m200c_msun"], rel=1e-6)
    assert t.meta["mass_check"]["fraction_within"] == 1.0


def test_sphere_at_higher_redshift_is_converted_to_physical(tmp_path):
    snap, cat, _ = write_sphere_halo(tmp_path, redshift=1.0)
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0))
    assert t["R200c"][0] == pytest.approx(0.5 / H / 2.0, rel=1e-6)  # a = 1/2
    assert t.meta["redshift"] == 1.0


def test_halo_across_the_box_edge_matches_interior_halo(tmp_path):
    inner = measure_halos(*write_sphere_halo(tmp_path / "a", seed=5)[:2],
                          IngestOptions(log10_mass_min_msun=10.0))
    edge = measure_halos(*write_sphere_halo(tmp_path / "b", centre=(10.0, BOX - 20.0, 12500.0),
                                            seed=5)[:2],
                         IngestOptions(log10_mass_min_msun=10.0))
    for col in ("Mgas200c", "Y200c", "Mstar200c", "Mdm200c", "c_gas"):
        assert edge[col][0] == pytest.approx(inner[col][0], rel=1e-6), col


def test_star_forming_gas_excluded_from_y_by_default(tmp_path):
    snap, cat, truth = write_sphere_halo(tmp_path, sf_fraction=0.25)
    default = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0))[0]
    included = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0,
                                                      star_forming_gas="include"))[0]
    assert default["Y200c"] == pytest.approx(0.75 * included["Y200c"], rel=1e-4)
    assert default["Mgas200c"] == pytest.approx(included["Mgas200c"])


def test_thread_count_changes_nothing_but_rounding(mock_snapshot):
    snap, cat, _, _ = mock_snapshot["SIMBA"]
    one = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=12.3, threads=1))
    two = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=12.3, threads=2))
    for col in ("Y200c", "Mgas200c", "Mdm200c", "Mstar200c", "T_mw200c"):
        np.testing.assert_allclose(np.asarray(two[col]), np.asarray(one[col]), rtol=1e-12)


def test_chunked_files_and_small_chunks_give_the_same_result(tmp_path):
    one = measure_halos(*write_sphere_halo(tmp_path / "one", seed=9)[:2],
                        IngestOptions(log10_mass_min_msun=10.0))
    snap, cat, _ = write_sphere_halo(tmp_path / "many", seed=9, n_files=3)
    assert not snap.exists() and snap.with_name("snap_033.2.hdf5").exists()
    many = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0, chunk_particles=1000))
    for col in ("Mgas200c", "Y200c", "Mgas500c", "Mstar200c", "Mdm200c"):
        assert many[col][0] == pytest.approx(one[col][0], rel=1e-9), col


def _brute_force(snapshot_path, centres, radii, box, ptype):
    """Particle mass of ``ptype`` inside each sphere; for stars, only PartType4 particles with
    GFM_StellarFormationTime > 0 where the field exists (wind-phase cells are not stars)."""
    snap = Snapshot(snapshot_path)
    out = np.zeros(len(centres))
    field = "GFM_StellarFormationTime"
    times = field if ptype == 4 and snap.has_field(4, field) else None
    for chunk in snap.iter_fields(ptype, ["Coordinates", "Masses"] + ([times] if times else [])):
        pos = chunk["Coordinates"].astype(float)
        mass = chunk["Masses"] * (chunk[times] > 0) if times else chunk["Masses"]
        for i, (c, r) in enumerate(zip(centres, radii, strict=True)):
            d = pos - c
            d -= box * np.round(d / box)
            out[i] += mass[np.einsum("ij,ij->i", d, d) <= r * r].sum()
    return out * snap.header.mass_to_msun


@pytest.mark.parametrize("suite", ["IllustrisTNG", "SIMBA", "Astrid"])
def test_mock_haloes_agree_with_brute_force_and_truth(mock_snapshot, suite):
    snap, cat, truth_path, _ = mock_snapshot[suite]
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=12.3, chunk_particles=50000))
    assert len(t) > 3
    from pipeline.io.gadget import GroupCatalog

    g = GroupCatalog(cat).read("Group", ["GroupPos", "Group_R_Crit200"])
    idx = np.asarray(t["group_index"])
    header = Snapshot(snap).header
    for ptype, col in ((0, "Mgas200c"), (1, "Mdm200c"), (4, "Mstar200c")):
        expected = _brute_force(snap, g["GroupPos"][idx].astype(float),
                                g["Group_R_Crit200"][idx].astype(float), header.box_size_ckpc_h,
                                ptype)
        np.testing.assert_allclose(np.asarray(t[col]), expected, rtol=1e-6, err_msg=col)
    truth = read_table(truth_path)[idx]
    # sampled particles reproduce the model within Poisson noise of the particle counts
    ratio = np.asarray(t["Mgas200c"]) / truth["Mgas200c"].quantity.to_value(u.Msun)
    assert np.median(ratio) == pytest.approx(1.0, abs=0.1)
    np.testing.assert_allclose(np.asarray(t["c_NFW"]), truth["c200c"], rtol=1e-3)
    total = np.asarray(t["Mgas200c"] + t["Mstar200c"] + t["Mdm200c"]) / np.asarray(t["M200c"])
    assert np.median(total) == pytest.approx(1.0, abs=0.05)
    if suite == "IllustrisTNG":  # the mock writes TNG's wind-phase cells: not counted as stars
        assert t.meta["wind_mass_in_r200c_msun"] > 0
        assert "GFM_StellarFormationTime > 0" in t.meta["stars_rule"]


def test_apertures_periodic_wrap():
    box = 100.0
    pos = np.array([[99.5, 50, 50], [0.5, 50, 50], [50, 50, 50], [-0.2, 150.0, 50]])
    spheres = HaloApertures(np.array([[0.0, 50, 50]]), {"a": np.array([1.0]), "b": np.array([0.4])},
                            box)
    assert list(spheres.select(pos)) == [0, 1, 3]  # the last one wraps to (99.8, 50, 50)
    out = spheres.sums(pos, {"n": np.ones(4)})
    assert out["n@a"][0] == 3 and out["n@b"][0] == 1


@pytest.mark.parametrize("n_cells, threads", [(None, 1), (1, 1), (7, 2), (64, 2)])
def test_apertures_match_brute_force(n_cells, threads):
    rng = np.random.default_rng(11)
    box = 1000.0
    centres = rng.uniform(0, box, (40, 3))
    radii = rng.uniform(5, 120, 40)
    pos = rng.uniform(-10, box + 10, (20000, 3)).astype(np.float32)
    w = rng.uniform(0, 1, 20000)
    spheres = HaloApertures(centres, {"r": radii, "half": 0.5 * radii}, box, n_cells=n_cells)
    d = pos[:, None, :].astype(float) % box - centres[None, :, :]
    d -= box * np.round(d / box)
    dist = np.sqrt((d**2).sum(axis=2))
    inside = dist <= radii[None, :]
    near = spheres.select(pos, threads)
    np.testing.assert_array_equal(near, np.flatnonzero(inside.any(axis=1)))
    sums = spheres.sums(pos[near], {"w": w[near]}, threads)
    np.testing.assert_allclose(sums["w@r"], (inside * w[:, None]).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sums["w@half"], ((dist <= 0.5 * radii) * w[:, None]).sum(axis=0),
                               rtol=1e-12)


@pytest.mark.parametrize("n_cells, threads", [(None, 1), (5, 2)])
def test_shell_sums_match_brute_force(n_cells, threads):
    """The profile stage's shells, found through the aperture cell table, against every
    particle-halo distance with the periodic wrap (particles also outside [0, box))."""
    rng = np.random.default_rng(12)
    box = 500.0
    centres = np.vstack([rng.uniform(0, box, (30, 3)), [[1.0, 499.0, 250.0]]])  # one at a corner
    edges = np.geomspace(2.0, 60.0, 9)
    pos = rng.uniform(-5, box + 5, (30000, 3))
    w = rng.uniform(0, 1, (2, 30000))
    spheres = HaloApertures(centres, {"shells": np.full(len(centres), edges[-1])}, box, n_cells=n_cells)
    out = spheres.shell_sums(pos, w, edges, threads)
    d = pos[:, None, :] % box - centres[None, :, :]
    d -= box * np.round(d / box)
    r = np.sqrt((d**2).sum(axis=2))
    shell = np.searchsorted(edges, r, side="right") - 1  # (particles, haloes)
    for j in range(len(edges) - 1):
        in_shell = shell == j
        np.testing.assert_allclose(out[:, j, 0], (in_shell * w[0][:, None]).sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(out[:, j, 1], (in_shell * w[1][:, None]).sum(axis=0), rtol=1e-12)
        np.testing.assert_array_equal(out[:, j, 2], in_shell.sum(axis=0))
    assert out[-1, :, 2].sum() > 0  # the corner halo gathers particles across three faces
    with pytest.raises(ValueError, match="outermost shell edge"):
        spheres.shell_sums(pos, w, np.append(edges, 100.0))


def test_blocks_are_each_run_once_whatever_thread_takes_them():
    """Blocks are fixed before the threads start: more blocks than threads are taken as threads
    come free, each block once, and an error in one is raised after every block has ended."""
    import threading
    import time

    from pipeline.particles.apertures import for_blocks, run_blocks, shell_blocks

    seen, names = [], set()

    def work(b, lo, hi):
        time.sleep(0.002 * (b % 3))  # blocks of unequal cost
        seen.append((b, lo, hi))
        names.add(threading.current_thread().name)

    for_blocks(1003, 8, work, threads=2)
    assert sorted(seen) == [(b, b * 1003 // 8, (b + 1) * 1003 // 8) for b in range(8)]
    assert len(names) == 2
    assert shell_blocks(1) == 1 and shell_blocks(2) == 8

    ended = []

    def failing(b, lo, hi):
        if b == 1:
            raise RuntimeError("block 1 failed")
        time.sleep(0.01)
        ended.append(b)

    with pytest.raises(RuntimeError, match="block 1 failed"):
        for_blocks(100, 4, failing, threads=2)
    assert sorted(ended) == [0, 2, 3]

    def kernel(values, lo, hi, partial):  # per-block sums in a fixed order: same bits each time
        partial[0] += values[lo:hi].sum()

    values = np.random.default_rng(3).normal(size=10_000) * 1e6
    runs = {float(run_blocks(kernel, len(values), 8, (1,), values, threads=2)[0]) for _ in range(5)}
    assert len(runs) == 1


@pytest.mark.parametrize("threads", [1, 2])
def test_shell_edges_belong_to_the_shell_above_and_the_outer_edge_to_none(threads):
    """Particles at exactly representable distances on the edges: a particle at an edge is in
    the shell that starts there, one at the outermost edge or inside the innermost is in none
    (both kernels: the numpy path's and the one forming the gas weights itself)."""
    from pipeline.particles.gas_kernels import gas_shell_sums

    box, centre = 100.0, np.array([[50.0, 50.0, 50.0]])
    edges = np.array([1.0, 2.0, 4.0, 8.0])  # squares exact in binary
    offsets = np.array([0.5, 1.0, 1.5, 2.0, 4.0, 7.99, 8.0, 9.0])
    expected_shell = [None, 0, 0, 1, 2, 2, None, None]
    pos = np.column_stack([50.0 + offsets, np.full(8, 50.0), np.full(8, 50.0)])
    spheres = HaloApertures(centre, {"shells": np.array([8.0])}, box)
    counts = np.zeros(3)
    for shell in expected_shell:
        if shell is not None:
            counts[shell] += 1
    numpy_path = spheres.shell_sums(pos, np.ones((1, 8)), edges, threads)
    np.testing.assert_array_equal(numpy_path[0, :, 1], counts)
    ones = np.ones(8, dtype=np.float32)
    fused = gas_shell_sums(spheres, pos, ones, ones, ones, np.zeros(8, dtype=np.float32), None,
                           1.0, 1.0, edges, threads=threads)
    np.testing.assert_array_equal(fused[0, :, 5], counts)  # particle count
    np.testing.assert_array_equal(fused[0, :, 0], counts)  # mass: one per particle


@pytest.mark.parametrize("sf_in_y, with_metals, threads", [(False, True, 1), (True, False, 2),
                                                           (True, True, 1)])
def test_fused_gas_sums_match_the_numpy_physics(sf_in_y, with_metals, threads):
    """The compiled gas kernel (search and thermodynamics fused) against the numpy functions of
    pipeline.physics.gas applied to a brute-force selection."""
    from pipeline.particles.gas_kernels import gas_sums
    from pipeline.physics.gas import compton_y_mpc2, temperature_k

    rng = np.random.default_rng(5)
    box, n = 500.0, 30000
    centres = rng.uniform(0, box, (12, 3))
    radii = rng.uniform(10, 80, 12)
    pos = rng.uniform(0, box, (n, 3)).astype(np.float32)
    mass = rng.uniform(0.5, 1.5, n).astype(np.float32)
    u_km2_s2 = 10 ** rng.uniform(2, 6, n).astype(np.float32)
    xe = rng.uniform(0.5, 1.2, n).astype(np.float32)
    sfr = np.where(rng.uniform(size=n) < 0.2, 1.0, 0.0).astype(np.float32)
    metal = rng.uniform(0, 0.03, n).astype(np.float32) if with_metals else None
    to_msun = 1.49e10
    spheres = HaloApertures(centres, {"r": radii, "half": 0.5 * radii}, box)
    out = gas_sums(spheres, pos, mass, u_km2_s2, xe, sfr, metal, to_msun, sf_in_y, threads)

    d = pos[:, None, :].astype(float) - centres[None]
    d -= box * np.round(d / box)
    dist = np.sqrt((d**2).sum(axis=2))
    m = mass.astype(float) * to_msun
    temp = temperature_k(u_km2_s2, xe)
    y = compton_y_mpc2(m, xe, temp)
    # one rule: star-forming gas is in every thermal sum or in none
    thermal = np.ones(n, dtype=bool) if sf_in_y else sfr <= 0
    y = np.where(thermal, y, 0.0)
    hot = np.where(thermal, m, 0.0)
    expected = {"mgas": m, "y": y, "mhot": hot, "mhot_t": hot * temp, "ngas": np.ones(n),
                "mz": m * metal.astype(float) if with_metals else np.zeros(n)}
    for ap, scale in (("r", 1.0), ("half", 0.5)):
        inside = dist <= scale * radii[None, :]
        assert inside.sum() > 100
        for name, w in expected.items():
            np.testing.assert_allclose(out[f"{name}@{ap}"], (inside * w[:, None]).sum(axis=0),
                                       rtol=1e-9, err_msg=f"{name}@{ap}")


def test_gas_sums_reject_misshapen_fields():
    from pipeline.particles.gas_kernels import gas_sums

    spheres = HaloApertures(np.array([[5.0, 5, 5]]), {"r": np.array([1.0])}, 10.0)
    ones = np.ones(4)
    with pytest.raises(ValueError, match="metallicity has shape"):
        gas_sums(spheres, np.ones((4, 3)), ones, ones, ones, ones, np.ones((4, 2)), 1.0)


def test_a_forked_child_runs_blocks_on_its_own_threads():
    """The block pool is kept for the process; a child forked after it was made (a user's
    multiprocessing pool) must not queue work for threads that exist only in the parent."""
    import multiprocessing

    from pipeline.particles.apertures import for_blocks

    for_blocks(10, 2, lambda b, lo, hi: None)  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply_async(_blocks_seen_in_child).get(timeout=60) == [0, 1, 2, 3]


def _blocks_seen_in_child():
    from pipeline.particles.apertures import for_blocks

    seen = []
    for_blocks(100, 4, lambda b, lo, hi: seen.append(b), threads=2)
    return sorted(seen)


def test_a_measured_value_without_a_registry_row_is_refused_not_dropped(tmp_path, monkeypatch):
    """The halo table writes the registry's columns: a value ingest measures and no row
    describes was dropped without a word. Now the run stops naming it and where its row goes."""
    from pipeline.ingest import particles

    measured = particles._halo_values

    def with_one_more(*args, **kwargs):
        return {**measured(*args, **kwargs), "Mgas_core": np.ones(1)}

    monkeypatch.setattr(particles, "_halo_values", with_one_more)
    snap, cat, _ = write_sphere_halo(tmp_path)
    with pytest.raises(RuntimeError, match=r"measured \['Mgas_core'\] but the column registry "
                                           r"has no row for it.*pipeline/columns/"):
        measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0))
