"""Analytic checks of the physics functions against constants written out in SI here."""

import numpy as np
import pytest

from pipeline.physics.cosmology import (
    critical_density_msun_mpc3,
    efunc,
    flat_lcdm,
    halo_mass_msun,
    halo_radius_mpc,
)
from pipeline.physics.gas import (
    Y_PER_ELECTRON_KELVIN_MPC2,
    compton_y_mpc2,
    electron_count,
    internal_energy_km2_s2,
    mean_molecular_weight,
    temperature_k,
    thermal_to_electron_pressure,
)
from pipeline.physics.nfw import (
    concentration_from_vmax_ratio,
    nfw_enclosed_fraction,
    vmax_over_v200,
)

SIGMA_T = 6.6524587321e-29  # m^2
K_B = 1.380649e-23  # J/K
ME_C2 = 8.1871057769e-14  # J
M_P = 1.67262192369e-27  # kg
MSUN = 1.98840987e30  # kg
MPC = 3.0856775814913673e22  # m


def test_y_constant_matches_si_value():
    expected = SIGMA_T * K_B / ME_C2 / MPC**2
    assert Y_PER_ELECTRON_KELVIN_MPC2 == pytest.approx(expected, rel=1e-6)


def test_temperature_of_fully_ionised_gas():
    xe = 1.0 + 0.24 / (2 * 0.76)
    mu = 4.0 / (1 + 3 * 0.76 + 4 * 0.76 * xe)
    assert mu == pytest.approx(0.588, abs=1e-3)
    u_km2_s2 = 1000.0**2  # (1000 km/s)^2
    expected = (2.0 / 3.0) * u_km2_s2 * 1e6 * mu * M_P / K_B
    assert temperature_k(u_km2_s2, xe) == pytest.approx(expected, rel=1e-6)
    assert internal_energy_km2_s2(expected, xe) == pytest.approx(u_km2_s2, rel=1e-6)


def test_neutral_gas_molecular_weight():
    assert mean_molecular_weight(0.0) == pytest.approx(4.0 / (1 + 3 * 0.76))


def test_y_of_isothermal_gas_mass():
    """Y = sigma_T k_B T N_e / (m_e c^2) for 1e13 Msun of gas at 1e7 K."""
    xe = 1.157
    n_e = xe * 0.76 * 1e13 * MSUN / M_P
    assert electron_count(1e13, xe) == pytest.approx(n_e, rel=1e-6)
    expected = SIGMA_T * K_B * 1e7 * n_e / ME_C2 / MPC**2
    assert compton_y_mpc2(1e13, xe, 1e7) == pytest.approx(expected, rel=1e-6)
    # additivity: splitting the gas into particles changes nothing
    assert compton_y_mpc2(np.full(1000, 1e10), xe, 1e7).sum() == pytest.approx(expected, rel=1e-9)


def test_electron_pressure_fraction():
    assert thermal_to_electron_pressure(0.76) == pytest.approx(2 * 1.76 / 6.8)
    # pure hydrogen: n_e = n_p, so P_e = P_th / 2
    assert thermal_to_electron_pressure(1.0) == pytest.approx(0.5)


def test_critical_density_and_radius():
    cosmo = flat_lcdm(0.7, 0.3)
    # rho_c0 = 2.775e11 h^2 Msun / Mpc^3
    assert critical_density_msun_mpc3(cosmo, 0.0) == pytest.approx(2.7754e11 * 0.49, rel=1e-3)
    z = 0.5
    assert efunc(cosmo, z) == pytest.approx(np.sqrt(0.3 * 1.5**3 + 0.7), rel=1e-9)
    r = halo_radius_mpc(1e14, cosmo, z, 200.0)
    assert halo_mass_msun(r, cosmo, z, 200.0) == pytest.approx(1e14, rel=1e-12)
    # (3 M / (4 pi 200 rho_c))^(1/3) for M = 1e14 Msun, h = 0.7
    assert halo_radius_mpc(1e14, cosmo, 0.0) == pytest.approx(0.9575, abs=0.001)
    assert halo_radius_mpc(1e14, cosmo, 0.0, 500.0) < halo_radius_mpc(1e14, cosmo, 0.0, 200.0)


@pytest.mark.parametrize("bad", [{"hubble_param": 70.0, "omega_m": 0.3},
                                 {"hubble_param": 0.7, "omega_m": 1.5}])
def test_cosmology_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match="hubble_param|omega_m"):
        flat_lcdm(**bad)


def test_nfw_vmax_ratio_and_inverse():
    c = np.array([3.0, 5.0, 10.0, 20.0])
    x = 2.16258
    m = lambda y: np.log1p(y) - y / (1 + y)  # noqa: E731
    expected = np.sqrt(m(x) / x * c / m(c))
    assert vmax_over_v200(c) == pytest.approx(expected, rel=1e-5)
    assert concentration_from_vmax_ratio(vmax_over_v200(c)) == pytest.approx(c, rel=1e-4)
    assert np.isnan(concentration_from_vmax_ratio(0.9))
    assert nfw_enclosed_fraction(1.0, 7.0) == pytest.approx(1.0)


@pytest.mark.parametrize("redshift", [0.0, 0.73, np.array([0.0, 0.5, 1.0, 3.0, 6.0])])
def test_flat_lcdm_is_astropys_to_the_bit(redshift):
    """The pipeline's FlatLCDM (no astropy.cosmology import in the jobs) gives astropy's
    FlatLambdaCDM(Tcmb0=0) numbers exactly, so every table stays the same."""
    from astropy import units as u
    from astropy.cosmology import FlatLambdaCDM

    from pipeline.physics.cosmology import critical_density_msun_mpc3, efunc, flat_lcdm

    for h, om in ((0.6711, 0.3), (0.7, 0.1), (0.55, 0.47)):
        ref = FlatLambdaCDM(H0=100.0 * h, Om0=om, Ob0=0.049, Tcmb0=0.0)
        ours = flat_lcdm(h, om, 0.049)
        assert ours.h == ref.h and ours.H0 == ref.H0 and ours.Ode0 == ref.Ode0
        assert np.array_equal(efunc(ours, redshift), np.asarray(ref.efunc(redshift)))
        assert np.array_equal(critical_density_msun_mpc3(ours, redshift),
                              np.asarray(ref.critical_density(redshift).to_value(u.Msun / u.Mpc**3)))
