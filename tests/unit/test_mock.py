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


def test_mass_function_cache_returns_colossus_values_to_the_bit(tmp_path):
    """The mock's mass-function cache: the first call writes colossus's values, later calls
    (other jobs) read the same bits back; another cosmology or redshift is another entry; an
    unreadable entry is recomputed and replaced, not trusted."""
    from pipeline.mock.population import mass_function_dn_dlog10m

    cosmo = flat_lcdm(0.6711, 0.3, 0.049)
    grid = np.linspace(11.7, 15.0, 400)
    direct = mass_function_dn_dlog10m(cosmo, 0.8, 0.0, grid)
    first = mass_function_dn_dlog10m(cosmo, 0.8, 0.0, grid, cache_dir=tmp_path)
    entries = sorted((tmp_path / "mass_function").glob("*.npy"))
    assert len(entries) == 1 and first.tobytes() == direct.tobytes()
    again = mass_function_dn_dlog10m(cosmo, 0.8, 0.0, grid, cache_dir=tmp_path)
    assert again.tobytes() == direct.tobytes()

    mass_function_dn_dlog10m(cosmo, 0.8, 0.5, grid, cache_dir=tmp_path)
    mass_function_dn_dlog10m(cosmo, 0.7, 0.0, grid, cache_dir=tmp_path)
    assert len(list((tmp_path / "mass_function").glob("*.npy"))) == 3

    entries[0].write_bytes(b"truncated")
    assert mass_function_dn_dlog10m(cosmo, 0.8, 0.0, grid, cache_dir=tmp_path).tobytes() \
        == direct.tobytes()
    assert np.load(entries[0]).tobytes() == direct.tobytes()
    assert not list((tmp_path / "mass_function").glob(".*"))  # no temporaries left


def test_mock_cosmology_varies_as_camels_lh():
    """With mock.parameter_ranges Omega_m 0.1-0.5 and sigma_8 0.6-1.0 (the CAMELS LH ranges) the
    simulations' parameters span them, the halo abundance follows the mass function of each
    cosmology, and each halo's baryons scale with f_b = Omega_b / Omega_m."""
    from pipeline.mock.gas_model import gas_model
    from pipeline.mock.population import draw_deviates, draw_population, halo_baryons

    sims = [f"LH_{i}" for i in range(20)]
    params = latin_hypercube_params(sims, {"Omega_m": [0.1, 0.5], "sigma_8": [0.6, 1.0]}, 42, "TNG")
    om = np.array([params[s]["Omega_m"] for s in sims])
    s8 = np.array([params[s]["sigma_8"] for s in sims])
    assert 0.1 <= om.min() < 0.12 and 0.48 < om.max() <= 0.5 and 0.6 <= s8.min() < 0.62
    astro = {"A_SN1": 1.0, "A_AGN1": 1.0, "A_SN2": 1.0, "A_AGN2": 1.0}
    counts = {}  # haloes above 1e12 and 1e13 Msun, mean of 10 boxes
    for omega_m, sigma8 in ((0.15, 0.8), (0.45, 0.8), (0.3, 0.6), (0.3, 1.0)):
        cosmo = flat_lcdm(0.6711, omega_m, 0.049)
        masses = [draw_population(np.random.default_rng(s), cosmo, sigma8, 0.0, 25.0 / 0.6711,
                                  astro, suite_model("IllustrisTNG"), 12.0).m200c_msun
                  for s in range(10)]
        counts[(omega_m, sigma8)] = [np.mean([np.sum(m >= lim) for m in masses])
                                     for lim in (1e12, 1e13)]
    assert counts[(0.45, 0.8)][0] > 2 * counts[(0.15, 0.8)][0]
    # sigma_8 matters most in the exponential tail: the ratio the mass function says
    assert counts[(0.3, 1.0)][1] > 1.3 * counts[(0.3, 0.6)][1]
    expected = [_expected_count(s8, 0.0, 25.0, 13.0) for s8 in (0.6, 1.0)]
    assert counts[(0.3, 1.0)][1] / counts[(0.3, 0.6)][1] == pytest.approx(
        expected[1] / expected[0], rel=0.35)
    m = np.geomspace(1e11, 1e14, 50)
    dev = draw_deviates(np.random.default_rng(1), len(m))
    gas = gas_model("IllustrisTNG")
    low, high = (halo_baryons(m, 0.0, 0.6711, 0.049 / om_, astro, suite_model("IllustrisTNG"),
                              gas, dev) for om_ in (0.15, 0.45))
    np.testing.assert_allclose((low.mgas_msun + low.mstar_msun) / (high.mgas_msun + high.mstar_msun),
                               3.0, rtol=1e-12)


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
