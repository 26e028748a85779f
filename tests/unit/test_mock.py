"""The mock: reproducible, physically sensible, and in each suite's real conventions."""

import numpy as np
import pytest

from pipeline.io.gadget import Snapshot
from pipeline.mock.parameters import latin_hypercube_params
from pipeline.mock.population import moster13_stellar_fraction
from pipeline.mock.suites import suite_model
from pipeline.physics.cosmology import flat_lcdm
from pipeline.physics.nfw import duffy08_concentration, nfw_mu, r500_over_r200


def _expected_count(sigma8: float, redshift: float, box_mpc_h: float, log10_mmin_msun: float,
                    h: float = 0.6711) -> float:
    """Haloes above 10^log10_mmin Msun in a (box_mpc_h Mpc/h)^3 box: colossus' Tinker+08
    dn/dlnM in its own units (Msun/h, comoving (Mpc/h)^-3) integrated with scipy's quad."""
    from colossus.cosmology import cosmology
    from colossus.lss import mass_function
    from scipy.integrate import quad

    cosmology.setCosmology("test-mf", params=dict(flat=True, H0=100 * h, Om0=0.3, Ob0=0.049,
                                                  sigma8=sigma8, ns=0.9624), persistence="")

    def dn_dlnm(ln_m_h):
        return float(mass_function.massFunction(np.exp(ln_m_h), redshift, mdef="200c",
                                                model="tinker08", q_out="dndlnM"))

    lo, hi = np.log(10**log10_mmin_msun * h), np.log(1e15 * h)
    return quad(dn_dlnm, lo, hi, limit=200)[0] * box_mpc_h**3


@pytest.mark.parametrize("redshift, sigma8", [(0.0, 0.8), (0.54, 0.8), (1.0, 0.6)])
def test_mock_halo_counts_follow_the_comoving_mass_function(redshift, sigma8):
    """The mass function is a comoving density: a (25 Mpc/h)^3 box holds the same comoving volume
    at every redshift (at z = 0.54 about 81 haloes above 1e12 Msun, not 22 as with the physical
    volume). Mean over 40 draws of the population the mock writes, against the integral."""
    from pipeline.mock.population import draw_population

    h = 0.6711
    cosmo = flat_lcdm(h, 0.3, 0.049)
    expected = _expected_count(sigma8, redshift, 25.0, 12.0, h)
    box_physical_mpc = 25.0 / h / (1.0 + redshift)
    astro = {"A_SN1": 1.0, "A_AGN1": 1.0, "A_SN2": 1.0, "A_AGN2": 1.0}
    counts = [int(np.sum(draw_population(np.random.default_rng(s), cosmo, sigma8, redshift,
                                         box_physical_mpc, astro, suite_model("IllustrisTNG"),
                                         12.0).m200c_msun >= 1e12))
              for s in range(40)]
    assert np.mean(counts) == pytest.approx(expected, abs=4 * np.sqrt(expected / 40) + 0.02 * expected)
    if redshift == 0.54:
        assert 70 < expected < 95


def test_scaling_ingredients():
    assert duffy08_concentration(2e12 / 0.7, 0.0, 0.7) == pytest.approx(5.71)
    f = moster13_stellar_fraction(np.array([1e11, 10**11.59, 1e13]), 0.0)
    assert f[1] > f[0] and f[1] > f[2]  # peak near M1
    assert f[1] == pytest.approx(0.0351)
    c = np.array([4.0, 8.0])
    x = r500_over_r200(c)
    np.testing.assert_allclose(nfw_mu(c * x) / nfw_mu(c), 2.5 * x**3, rtol=1e-9)
    assert np.all((x > 0.6) & (x < 0.7))


def test_latin_hypercube_strata():
    sims = [f"LH_{i}" for i in range(10)]
    p = latin_hypercube_params(sims, {"A_SN1": [0.25, 4.0], "Omega_m": [0.1, 0.5]}, 0, "S")
    a = np.array([p[s]["A_SN1"] for s in sims])
    strata = np.floor((np.log(a) - np.log(0.25)) / (np.log(16.0) / 10)).astype(int)
    assert sorted(strata) == list(range(10))  # one value per stratum
    assert p == latin_hypercube_params(sims, {"A_SN1": [0.25, 4.0], "Omega_m": [0.1, 0.5]}, 0, "S")
    with pytest.raises(ValueError, match="unknown mock suite"):
        suite_model("Gadget4")


def test_suite_conventions(mock_snapshot):
    tng = Snapshot(mock_snapshot["IllustrisTNG"][0])
    assert len(tng.files) == 2  # chunked
    assert tng.header.mass_table_1e10msun_h[1] > 0 and not tng.has_field(1, "Masses")
    assert tng.has_field(0, "GFM_Metallicity")
    simba = Snapshot(mock_snapshot["SIMBA"][0])
    assert simba.has_field(1, "Masses") and simba.has_field(0, "Metallicity")


def test_mock_is_reproducible(tmp_path):
    from pipeline.mock.simulate import MockOptions, write_mock_snapshot

    params = {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 2.0, "A_AGN1": 0.5, "A_SN2": 1.0,
              "A_AGN2": 1.0}
    opts = MockOptions(seed=1, log10_halo_mass_min_msun=12.5, background_particles=100)
    pops = []
    for d in ("a", "b"):
        pops.append(write_mock_snapshot(tmp_path / d / "s.hdf5", tmp_path / d / "g.hdf5",
                                        tmp_path / d / "t.h5", "Astrid", "LH_1", 90, params, opts))
    np.testing.assert_array_equal(pops[0].m200c_msun, pops[1].m200c_msun)
    a = next(Snapshot(tmp_path / "a" / "s.hdf5").iter_fields(0, ["Coordinates"]))
    b = next(Snapshot(tmp_path / "b" / "s.hdf5").iter_fields(0, ["Coordinates"]))
    np.testing.assert_array_equal(a["Coordinates"], b["Coordinates"])
