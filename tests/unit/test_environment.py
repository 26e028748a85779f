"""Environment columns: periodic brute force, hand-made configurations, the ingest table, config."""

import numpy as np
import pytest

from pipeline.columns.environment import EnvironmentOptions, environment_columns
from pipeline.config import validate_config
from pipeline.errors import ConfigError, DataError
from pipeline.ingest.environment import measure_environment
from pipeline.ingest.particles import IngestOptions, measure_halos

ALL = EnvironmentOptions(features=("overdensity", "neighbours", "nearest_more_massive"),
                         radii_mpc=(1.5, 4.0), tracer_log10_mass_min_msun=11.0)


def _periodic_distances(a, b, box):
    d = np.abs(a[:, None, :] - b[None, :, :])
    d = np.minimum(d, box - d)
    return np.sqrt((d**2).sum(axis=2))


def _brute_force(pos, m200, r200, box, measured, opts):
    tracer = m200 >= 10**opts.tracer_log10_mass_min_msun
    dist = _periodic_distances(pos[measured], pos, box)
    others = tracer[None, :] & (np.arange(len(pos))[None, :] != measured[:, None])
    rho = m200[tracer].sum() / box**3
    out = {}
    for r in opts.radii_mpc:
        near = others & (dist <= r)
        out[f"overdensity_{r:g}".replace(".", "p") + "mpc"] = (
            (near * m200[None, :]).sum(axis=1) / (rho * 4 / 3 * np.pi * r**3) - 1)
    for r in opts.radii_mpc:
        out[f"n_neighbours_{r:g}".replace(".", "p") + "mpc"] = (others & (dist <= r)).sum(axis=1)
    heavier = tracer[None, :] & (m200[None, :] > m200[measured][:, None])
    d = np.where(heavier, dist, np.inf)
    j = np.argmin(d, axis=1)
    rows = np.arange(len(measured))
    out["d_more_massive_r200c"] = np.where(
        heavier.any(axis=1), d[rows, j] / r200[j], np.sqrt(3) / 2 * box / r200[measured])
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_environment_matches_periodic_brute_force(seed):
    rng = np.random.default_rng(seed)
    box, n = 20.0, 600
    # clustered: half the haloes in clumps that straddle the box faces, so wrapping matters
    clumps = rng.uniform(0, box, (6, 3))
    clumps[:3, 0] = rng.uniform(-0.5, 0.5, 3)
    pos = np.vstack([rng.uniform(0, box, (n // 2, 3)),
                     clumps[rng.integers(0, 6, n // 2)] + rng.normal(0, 0.8, (n // 2, 3))])
    pos = np.mod(pos, box)
    m200 = 10 ** rng.uniform(10.5, 14.0, n)
    r200 = 0.2 * (m200 / 1e12) ** (1 / 3)
    measured = np.flatnonzero(m200 > 10**11.5)
    got = measure_environment(pos, m200, r200, box, measured, ALL)
    want = _brute_force(pos, m200, r200, box, measured, ALL)
    assert list(got) == [c.name for c in environment_columns(ALL)] == list(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-12, err_msg=name)
    # tracers below the measured cut count as neighbours; the top halo gets the isolation cap
    top = np.argmax(m200[measured])
    assert got["d_more_massive_r200c"][top] == pytest.approx(np.sqrt(3) / 2 * box / r200[measured][top])
    assert np.isfinite(got["d_more_massive_r200c"]).all()


def test_environment_by_hand_across_the_box_edge():
    """Three haloes: a pair 1 Mpc apart through the periodic face, a third far away."""
    box = 10.0
    pos = np.array([[0.2, 5.0, 5.0], [9.2, 5.0, 5.0], [5.0, 0.0, 0.0]])
    m200 = np.array([1e12, 4e12, 2e12])
    r200 = np.array([0.2, 0.4, 0.3])
    opts = EnvironmentOptions(features=("overdensity", "neighbours", "nearest_more_massive"),
                              radii_mpc=(1.5,), tracer_log10_mass_min_msun=11.0)
    got = measure_environment(pos, m200, r200, box, np.arange(3), opts)
    np.testing.assert_array_equal(got["n_neighbours_1p5mpc"], [1, 1, 0])
    rho_v = m200.sum() / box**3 * 4 / 3 * np.pi * 1.5**3
    np.testing.assert_allclose(got["overdensity_1p5mpc"], [4e12 / rho_v - 1, 1e12 / rho_v - 1, -1])
    # halo 0: nearest heavier is halo 1 at 1 Mpc (R200c 0.4); halo 1 is the heaviest:
    # sqrt(3)/2 L over its own R200c; halo 2: halo 1 at sqrt(4.2^2 + 5^2 + 5^2)
    np.testing.assert_allclose(got["d_more_massive_r200c"],
                               [1.0 / 0.4, np.sqrt(3) / 2 * 10 / 0.4, np.sqrt(4.2**2 + 50) / 0.4])


def test_environment_options_and_errors():
    assert measure_environment(np.zeros((2, 3)), np.ones(2), np.ones(2), 1.0, [0],
                               EnvironmentOptions()) == {}
    with pytest.raises(ConfigError, match="ingest.environment.features.*'density'"):
        EnvironmentOptions(features=("density",))
    with pytest.raises(ConfigError, match="radii_mpc"):
        EnvironmentOptions(features=("neighbours",), radii_mpc=(0.0,))
    with pytest.raises(DataError, match="tracer_log10_mass_min_msun"):
        measure_environment(np.zeros((2, 3)), np.full(2, 1e11), np.ones(2), 1.0, [0],
                            EnvironmentOptions(features=("neighbours",),
                                               tracer_log10_mass_min_msun=12.0))


def test_ingest_adds_the_environment_columns_from_the_catalog(mock_snapshot):
    snap, cat, _, _ = mock_snapshot["SIMBA"]
    env = {"features": ["overdensity", "neighbours", "nearest_more_massive"], "radii_mpc": [2.0],
           "tracer_log10_mass_min_msun": 11.0}
    plain = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=12.3))
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=12.3, environment=env))
    names = ["overdensity_2mpc", "n_neighbours_2mpc", "d_more_massive_r200c"]
    assert t.colnames == plain.colnames + names
    for c in plain.colnames:  # the halo columns do not change
        np.testing.assert_array_equal(np.asarray(t[c]), np.asarray(plain[c]))
    from pipeline.io.gadget import GroupCatalog, Snapshot

    hdr = Snapshot(snap).header
    g = GroupCatalog(cat).read("Group", ["GroupPos", "Group_M_Crit200", "Group_R_Crit200"])
    box = float(hdr.box_size.to_value("Mpc"))
    want = _brute_force(g["GroupPos"].astype(float) * hdr.length_to_mpc,
                        g["Group_M_Crit200"].astype(float) * hdr.mass_to_msun,
                        g["Group_R_Crit200"].astype(float) * hdr.length_to_mpc, box,
                        np.asarray(t["group_index"]), EnvironmentOptions(**env))
    for name in names:
        np.testing.assert_allclose(np.asarray(t[name]), want[name], rtol=1e-10, err_msg=name)
        assert t[name].description
    assert t.meta["provenance"]["options"]["environment"]["radii_mpc"] == (2.0,)


def test_config_knows_the_environment_columns():
    from pathlib import Path

    import yaml

    config = yaml.safe_load(Path("config.yaml").read_text())
    config["features"] = config["features"] + ["overdensity_3mpc"]
    with pytest.raises(ConfigError, match="overdensity_3mpc"):
        validate_config(config)
    config["ingest"] = {"environment": {"features": ["overdensity"], "radii_mpc": [3]}}
    assert validate_config(config)["ingest"]["environment"]["tracer_log10_mass_min_msun"] == 10.5
    config["ingest"]["environment"]["features"] = ["overdensity", "shear"]
    with pytest.raises(ConfigError, match="ingest.environment.features"):
        validate_config(config)
