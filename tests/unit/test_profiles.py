"""Stacked-profile input: integration on analytic profiles, synthetic files in the real format,
a few real CAMELS files (skipped when the shared data is absent), malformed files."""

from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from conftest import REAL_CAMELS, real_data
from scipy.integrate import quad

from pipeline.errors import DataError, InputFileError
from pipeline.ingest.stacks import StackOptions, measure_stack, measure_suite_stacks
from pipeline.io.camels_stacks import (
    profile_path,
    read_profile_stack,
    stack_parameters,
    write_profile_stack,
)
from pipeline.physics.cosmology import flat_lcdm, halo_radius_mpc
from pipeline.physics.profile_integrals import compton_y_from_pressure_mpc2, enclosed_integral

REAL = REAL_CAMELS
needs_real = real_data
TWO_BINS = StackOptions(mass_bins=("11-11.5", "12.3-13.1"))
GRID = np.geomspace(0.003, 12.4, 16)  # the radial grid of the real stacks, physical Mpc


def gnfw(x, xc=0.497, gamma=-0.3, alpha=1.0, beta=4.35):
    """Battaglia et al. (2012) generalised NFW shape."""
    return (x / xc) ** gamma * (1 + (x / xc) ** alpha) ** (-beta)


def test_power_law_is_integrated_exactly():
    for r_max in (0.001, 0.35, 5.0):
        assert enclosed_integral(GRID, GRID**-2.0, r_max) == pytest.approx(4 * np.pi * r_max, rel=1e-5)
    # r^-1: int 4 pi r dr = 2 pi R^2
    assert enclosed_integral(GRID, GRID**-1.0, 1.0) == pytest.approx(2 * np.pi, rel=1e-4)


@pytest.mark.parametrize("r200", [0.15, 0.35, 0.8])
def test_gnfw_pressure_on_the_coarse_real_grid(r200):
    exact = quad(lambda r: gnfw(r / r200) * 4 * np.pi * r**2, 0, r200, limit=200)[0]
    assert enclosed_integral(GRID, gnfw(GRID / r200), r200) == pytest.approx(exact, rel=1e-3)
    # a product of profiles (density x temperature) is interpolated factor by factor
    temp = (GRID / r200) ** 0.2
    exact_t = quad(lambda r: gnfw(r / r200) * (r / r200) ** 0.2 * 4 * np.pi * r**2, 0, r200,
                   limit=200)[0]
    assert enclosed_integral(GRID, [gnfw(GRID / r200), temp], r200) == pytest.approx(exact_t, rel=1e-3)


def test_core_extrapolation_stays_bounded_as_the_inner_slope_nears_minus_three():
    """A product whose inner slopes add up to -2.999 (density r^-2.7 times metallicity r^-0.299,
    as in a real TNG 1P stack) must not put 1000 x the core's r0^3 below the first radius: the
    mass-weighted mean of a profile between 0.005 and 0.02 stays between those values."""
    rho = GRID**-2.7
    metal = 0.02 * (GRID / GRID[0]) ** -0.299
    metal = np.maximum(metal, 0.005)
    r_max = 0.3
    mean = enclosed_integral(GRID, [rho, metal], r_max) / enclosed_integral(GRID, rho, r_max)
    assert 0.005 <= mean <= 0.02
    # the capped core is r^-2: an r^-2 profile is still integrated exactly
    assert enclosed_integral(GRID, GRID**-2.0, GRID[0]) == pytest.approx(4 * np.pi * GRID[0], rel=1e-9)


def test_integration_limits():
    with pytest.raises(ValueError, match="exceeds the last profile radius"):
        enclosed_integral(GRID, GRID**-2, 20.0)
    # zeros fall back to linear interpolation instead of failing
    f = np.where(GRID > 1.0, 0.0, 1.0)
    assert np.isfinite(enclosed_integral(GRID, f, 2.0))


def test_y_from_uniform_pressure_sphere():
    """Uniform P_th inside R: Y = sigma_T / (m_e c^2) P_e (4/3) pi R^3."""
    p_th = np.full(GRID.size, 1e-25) * u.Msun / u.kpc / u.s**2
    y = compton_y_from_pressure_mpc2(GRID * u.Mpc, p_th, 0.5 * u.Mpc)
    p_e_pa = 1e-25 * 1.98840987e30 / 3.0856775814913673e19 * 2 * 1.76 / 6.8
    volume_m3 = 4 / 3 * np.pi * (0.5 * 3.0856775814913673e22) ** 3
    expected = 6.6524587321e-29 / 8.1871057769e-14 * p_e_pa * volume_m3 / 3.0856775814913673e22**2
    assert y == pytest.approx(expected, rel=1e-4)


def _synthetic_root(tmp_path: Path, n_halos: int = 30) -> Path:
    root = tmp_path / "profiles"
    root.mkdir()
    (root / "simulations.csv").write_text(
        "suite,simulation,Omega_m,sigma_8,A_SN1,A_AGN1,A_SN2,A_AGN2,varied\n"
        "TNG,1P_22,0.3,0.8,0.25,1.0,1.0,1.0,A_SN1\nTNG,1P_27,0.3,0.8,1.0,1.0,1.0,1.0,none\n")
    (root / "snapshots.csv").write_text("suite,snapshot,redshift\nTNG,033,0.0\nTNG,032,0.05\n")
    cosmo = flat_lcdm(0.6711, 0.3, 0.049)
    for sim, amp in (("1P_22", 0.5), ("1P_27", 1.0)):
        for snap, z in ((33, 0.0), (32, 0.05)):
            for mb, m in (("11-11.5", 2e11), ("12.3-13.1", 4e12)):
                r200 = float(halo_radius_mpc(m, cosmo, z))
                rho = amp * 1e5 * gnfw(GRID / r200)
                write_profile_stack(
                    profile_path(root, "TNG", sim, snap, mb), GRID,
                    {"density": rho, "pressure": 1e-26 * amp * gnfw(GRID / r200),
                     "metallicity": np.full(GRID.size, 0.01), "temperature": np.full(GRID.size, 1e6)},
                    n_halos=n_halos, mean_m200c_msun=m, mass_range=(11.0, 11.5))
    return root


def test_synthetic_stacks_measure_analytic_values(tmp_path):
    root = _synthetic_root(tmp_path)
    t = measure_suite_stacks(root, "TNG", ["1P_22", "1P_27"], [32, 33], TWO_BINS)
    assert len(t) == 8
    row = t[(t["sim"] == "1P_27") & (t["snapshot"] == 33) & (t["mass_bin"] == "12.3-13.1")][0]
    r200 = row["R200c"]
    exact_mgas = 1e5 * 1e9 * quad(lambda r: gnfw(r / r200) * 4 * np.pi * r**2, 0, r200)[0]
    assert row["Mgas200c"] == pytest.approx(exact_mgas, rel=1e-3)  # Msun/kpc^3 -> Msun/Mpc^3
    assert row["T_mw200c"] == pytest.approx(1e6, rel=1e-6)
    assert row["Z_mw200c"] == pytest.approx(0.01, rel=1e-6)
    assert 0 < row["c_gas"] < 1 and row["R500c"] < row["R200c"] and row["M500c"] < row["M200c"]
    assert t["Y200c"].unit == u.Mpc**2 and row["A_SN1"] == 1.0
    half = t[(t["sim"] == "1P_22") & (t["snapshot"] == 33) & (t["mass_bin"] == "12.3-13.1")][0]
    assert half["Y200c"] == pytest.approx(0.5 * row["Y200c"], rel=1e-6)


def test_stacks_with_few_haloes_are_dropped(tmp_path):
    root = _synthetic_root(tmp_path, n_halos=5)
    bins = ("11-11.5", "12.3-13.1")
    with pytest.raises(DataError, match="stacks.min_halos"):
        measure_suite_stacks(root, "TNG", ["1P_27"], [33], StackOptions(min_halos=10, mass_bins=bins))
    t = measure_suite_stacks(root, "TNG", ["1P_27"], [33], StackOptions(min_halos=5, mass_bins=bins))
    assert len(t) == 2 and t.meta["stacks_dropped_few_halos"] == 0
    # one stack with few haloes among many: dropped and counted
    path = profile_path(root, "TNG", "1P_27", 33, "11-11.5")
    path.write_text(path.read_text().replace("Nhalos 5", "Nhalos 2"))
    t = measure_suite_stacks(root, "TNG", ["1P_27"], [33], StackOptions(min_halos=3, mass_bins=bins))
    assert len(t) == 1 and t.meta["stacks_dropped_few_halos"] == 1


def _set_column(line: str, index: int, value: str) -> str:
    parts = line.split()
    parts[index] = value
    return " ".join(parts)


def test_binary_stack_file_names_the_file(tmp_path):
    root = _synthetic_root(tmp_path)
    path = profile_path(root, "TNG", "1P_27", 33, "11-11.5")
    path.write_bytes(b"\x89HDF\r\n\x1a\n\x00\xff\xfe" * 20)
    with pytest.raises(InputFileError, match="is not a text file") as err:
        measure_suite_stacks(root, "TNG", ["1P_27"], [33], TWO_BINS)
    assert path.name in str(err.value)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda lines: lines[:1] + lines[2:3] + lines[4:], "header lacks"),
        (lambda lines: lines[:6] + [lines[6].rsplit(" ", 3)[0]] + lines[7:], "expected 21 columns"),
        (lambda lines: lines[:4] + [lines[5], lines[4]] + lines[6:], "increasing"),
        (lambda lines: lines[:5] + [lines[5].replace(lines[5].split()[6], "nan", 1)] + lines[6:],
         r"column 6 \(mean pressure\) is NaN/inf at radial row\(s\) \[1\]"),
        # the temperature and metallicity columns are checked too (they used to give T_mw = nan
        # silently, and a traceback naming no file)
        (lambda lines: lines[:6] + [_set_column(lines[6], 16, "nan")] + lines[7:],
         r"column 16 \(mean temperature\) is NaN/inf"),
        (lambda lines: lines[:6] + [_set_column(lines[6], 11, "inf")] + lines[7:],
         r"column 11 \(mean metallicity\) is NaN/inf"),
        (lambda lines: lines[:6] + [_set_column(lines[6], 1, "-1.0")] + lines[7:],
         "mean density has negative values"),
    ],
)
def test_malformed_files_name_file_and_problem(tmp_path, corrupt, message):
    root = _synthetic_root(tmp_path)
    path = profile_path(root, "TNG", "1P_27", 33, "11-11.5")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(corrupt(lines)) + "\n")
    with pytest.raises(InputFileError, match=message) as err:
        read_profile_stack(path)
    assert path.name in str(err.value)


def test_missing_stack_file(tmp_path):
    """A stack the study asks for without a file: named (simulation, snapshot, mass bin)."""
    root = _synthetic_root(tmp_path)
    profile_path(root, "TNG", "1P_22", 32, "11-11.5").unlink()
    with pytest.raises(DataError, match=r"TNG: 1 stack\(s\).*\('1P_22', 32, '11-11.5'\)"):
        measure_suite_stacks(root, "TNG", ["1P_22"], [32], TWO_BINS)


@needs_real
def test_real_camels_stack():
    s = read_profile_stack(profile_path(REAL, "IllustrisTNG", "1P_27", 33, "12.3-13.1"))
    assert s.n_halos == 36 and s.radius.unit == u.Mpc and len(s.radius) == 16
    row = measure_stack(profile_path(REAL, "IllustrisTNG", "1P_27", 33, "12.3-13.1"), 0.0, 0.3,
                        StackOptions())
    # a ~4.5e12 Msun group: R200c ~ 0.35 Mpc, gas fraction a few per cent, T ~ 1e6 K
    assert row["R200c"] == pytest.approx(0.35, abs=0.02)
    assert 0.01 < row["f_gas200c"] < 0.16
    assert 3e5 < row["T_mw200c"] < 1e7
    assert 1e-10 < row["Y200c"] < 1e-7


@needs_real
def test_real_feedback_response_of_y():
    """IllustrisTNG at 10^12.3-13.1 Msun, z = 0: A_SN1 0.25 -> 4 raises Y about fivefold;
    SIMBA: A_AGN2 0.5 -> 2 lowers it about fourfold (as stated for the real stacks)."""
    def y(suite, sim):
        params = stack_parameters(REAL, suite, [sim])
        return measure_stack(profile_path(REAL, suite, sim, 33, "12.3-13.1"), 0.0,
                             params[(suite, sim)]["Omega_m"], StackOptions())["Y200c"]

    assert 3.5 < y("IllustrisTNG", "1P_32") / y("IllustrisTNG", "1P_22") < 7
    assert 2.5 < y("SIMBA", "1P_55") / y("SIMBA", "1P_65") < 6


@needs_real
def test_reference_stacks_in_the_profile_stage_columns():
    """The real stacks read into the profile stage's columns: same units, same numbers."""
    from pipeline.io.camels_stacks import MASS_BINS
    from pipeline.particles.shells import REFERENCE_RADII_MPC
    from pipeline.radial_profiles.reference import reference_profile_table

    table = reference_profile_table(REAL, "SIMBA", "1P_27", 33, 0.0)
    assert set(table["mass_bin"]) == set(MASS_BINS)
    assert table["pressure_mean"].unit == u.Msun / u.kpc / u.s**2
    stack = read_profile_stack(profile_path(REAL, "SIMBA", "1P_27", 33, "12.3-13.1"))
    sel = table[table["mass_bin"] == "12.3-13.1"]
    np.testing.assert_allclose(sel["density_mean"].value, stack.mean("density").value)
    # the profile stage measures at the radii of the real files
    assert np.all(np.isclose(sel["r"].value[:, None], REFERENCE_RADII_MPC[None, :],
                             rtol=1e-6).any(axis=1))
