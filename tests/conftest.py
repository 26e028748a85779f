"""Shared fixtures: small snapshots and catalogs written in the real Gadget/Arepo layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.io.gadget_writer import write_group_catalog, write_snapshot

REPO = Path(__file__).resolve().parents[1]
#: the real CAMELS stacked profiles (an emu_CAMELS clone) beside the repository, where present
REAL_CAMELS = (REPO.parent / "shared" / "data" / "emu_CAMELS").resolve()


def real_data(test):
    """Mark a test that reads the real CAMELS stacks (``-m real_data`` selects them) and skip it,
    saying where they were looked for, on a machine without them."""
    skip = pytest.mark.skipif(not REAL_CAMELS.exists(),
                              reason=f"no emu_CAMELS clone at {REAL_CAMELS}")
    return pytest.mark.real_data(skip(test))

#: SR options for data without simulations (a plain x, y): the equation is chosen on a validation
#: split by halo. The defaults (choice by transfer, validation by simulation) need simulations.
BY_HALO = {"choice_data": "split", "validation_groups": None}
H = 0.7
BOX = 25000.0  # ckpc/h


def header(redshift: float = 0.0, mass_table=(0, 0.01, 0, 0, 0, 0)) -> dict:
    return {
        "BoxSize": BOX, "Redshift": redshift, "Time": 1.0 / (1.0 + redshift),
        "HubbleParam": H, "Omega0": 0.3, "OmegaLambda": 0.7, "OmegaBaryon": 0.049,
        "MassTable": np.asarray(mass_table, dtype=float),
    }


def uniform_sphere(rng, n: int, radius: float, centre) -> np.ndarray:
    """n points uniform in a sphere (code units), wrapped into the box."""
    r = radius * rng.uniform(0, 1, n) ** (1 / 3)
    v = rng.standard_normal((n, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.mod(np.asarray(centre) + v * r[:, None], BOX)


def write_sphere_halo(
    directory: Path, centre=(12500.0, 12500.0, 12500.0), n_gas: int = 20000,
    r_sphere: float = 500.0, r200: float = 500.0, r500: float = 330.0,
    temperature_k: float = 1.0e7, sf_fraction: float = 0.0, n_files: int = 1, seed: int = 1,
    redshift: float = 0.0, extra_gas=None,
) -> tuple[Path, Path, dict]:
    """One halo: gas uniform in a sphere at one temperature, a few DM and star particles,
    and background gas outside R200c. ``extra_gas(n_gas, n_background)``: more (or replaced)
    gas fields (None: removed), halo cells first (the first ``sf_fraction`` of them star-forming). Returns
    (snapshot path, catalog path, truth dict)."""
    from pipeline.physics.gas import internal_energy_km2_s2

    rng = np.random.default_rng(seed)
    pos = uniform_sphere(rng, n_gas, r_sphere, centre)
    bg = rng.uniform(0, BOX, (3000, 3))
    d = bg - np.asarray(centre)
    d -= BOX * np.round(d / BOX)
    bg = bg[np.linalg.norm(d, axis=1) > 2 * r200]
    n_bg = len(bg)
    xe = 1.0 + 0.24 / 1.52
    m_code = 1e-4  # 1e6 Msun/h
    sfr = np.zeros(n_gas + n_bg, dtype=np.float32)
    sfr[: int(sf_fraction * n_gas)] = 1.0
    gas = {
        "Coordinates": np.vstack([pos, bg]),
        "Masses": np.full(n_gas + n_bg, m_code, dtype=np.float32),
        "InternalEnergy": np.full(n_gas + n_bg, internal_energy_km2_s2(temperature_k, xe),
                                  dtype=np.float32),
        "ElectronAbundance": np.full(n_gas + n_bg, xe, dtype=np.float32),
        "StarFormationRate": sfr,
        "GFM_Metallicity": np.full(n_gas + n_bg, 0.01, dtype=np.float32),
    }
    for name, values in (extra_gas(n_gas, n_bg) if extra_gas is not None else {}).items():
        if values is None:
            gas.pop(name)  # e.g. the TNG metallicity field, for a SIMBA-style one
        else:
            gas[name] = values
    dm = {"Coordinates": uniform_sphere(rng, 5000, r200, centre)}
    stars = {"Coordinates": uniform_sphere(rng, 100, 0.1 * r200, centre),
             "Masses": np.full(100, m_code, dtype=np.float32)}
    snap = directory / "snap_033.hdf5"
    cat = directory / "fof_subhalo_tab_033.hdf5"
    write_snapshot(snap, header(redshift), {0: gas, 1: dm, 4: stars}, n_files=n_files)
    # the catalog's masses are those of the particles inside R200c / R500c, as Subfind's are
    # (the ingest checks that catalog and snapshot agree)
    def inside(points, radius):
        d = points - np.asarray(centre)
        d -= BOX * np.round(d / BOX)
        return np.linalg.norm(d, axis=1) < radius

    def mass_inside(radius):
        return (inside(pos, radius).sum() * m_code + inside(dm["Coordinates"], radius).sum() * 0.01
                + inside(stars["Coordinates"], radius).sum() * m_code)

    groups = {
        "GroupPos": np.asarray([centre], dtype=np.float32),
        "Group_M_Crit200": np.asarray([mass_inside(r200)], dtype=np.float32),
        "Group_R_Crit200": np.asarray([r200], dtype=np.float32),
        "Group_M_Crit500": np.asarray([mass_inside(r500)], dtype=np.float32),
        "Group_R_Crit500": np.asarray([r500], dtype=np.float32),
        "GroupFirstSub": np.asarray([0], dtype=np.int32),
    }
    subs = {"SubhaloVmax": np.asarray([600.0], dtype=np.float32)}
    cat_header = {"BoxSize": BOX, "Redshift": redshift, "HubbleParam": H}
    write_group_catalog(cat, cat_header, groups, subs, n_files=n_files)
    truth = {"n_gas": n_gas, "gas_mass_msun": n_gas * m_code * 1e10 / H,
             "temperature_k": temperature_k, "xe": xe, "star_mass_msun": 100 * m_code * 1e10 / H,
             "dm_mass_msun": 5000 * 0.01 * 1e10 / H,
             "m200c_msun": float(groups["Group_M_Crit200"][0]) * 1e10 / H}
    return snap, cat, truth


@pytest.fixture
def sphere_halo(tmp_path):
    return write_sphere_halo(tmp_path)


@pytest.fixture(scope="session")
def mock_snapshot(tmp_path_factory):
    """A small mock snapshot of each suite (few haloes, 2 chunk files for IllustrisTNG)."""
    from pipeline.mock.simulate import MockOptions, write_mock_snapshot

    base = tmp_path_factory.mktemp("mock")
    params = {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 1.0, "A_AGN1": 1.0, "A_SN2": 1.0,
              "A_AGN2": 1.0}
    out = {}
    for suite, n_files in (("IllustrisTNG", 2), ("SIMBA", 1), ("Astrid", 1)):
        d = base / suite
        opts = MockOptions(seed=3, log10_halo_mass_min_msun=12.3, background_particles=2000,
                           files_per_snapshot=n_files)
        pop = write_mock_snapshot(d / "snapshot_090.hdf5", d / "groups_090.hdf5",
                                  d / "truth.h5", suite, "LH_0", 90, params, opts)
        out[suite] = (d / "snapshot_090.hdf5", d / "groups_090.hdf5", d / "truth.h5", pop)
    return out


def write_synthetic_profiles(root: Path, suites=("TNG", "SIMBA"), n_sims: int = 4,
                             snapshots=((33, 0.0), (32, 0.05)), seed: int = 0,
                             sim_names=None, header_variant: str = "Nhalos", n_radii: int = 16,
                             omega_m=None) -> Path:
    """A directory of stacked-profile files in the CAMELS emu format (all four mass bins), with
    gas amplitudes that respond to A_SN1 and A_AGN2 and scatter between stacks. Calls with other
    simulations (``sim_names``, e.g. an LH set) add to the same directory: simulations.csv and
    snapshots.csv are merged. ``header_variant``: "Nhalos" or "nprofs" (no Nhalos line);
    ``omega_m``: a callable of the simulation index (LH sets vary cosmology)."""
    from pipeline.io.camels_stacks import MASS_BINS, profile_path, write_profile_stack
    from pipeline.physics.cosmology import flat_lcdm, halo_radius_mpc

    rng = np.random.default_rng(seed)
    grid = np.geomspace(0.003, 12.4, 16)[16 - n_radii:]
    root.mkdir(parents=True, exist_ok=True)
    sims = list(sim_names) if sim_names else [f"1P_{22 + i}" for i in range(n_sims)]
    n_sims = len(sims)
    sim_table, snap_table = root / "simulations.csv", root / "snapshots.csv"
    lines = (sim_table.read_text().splitlines() if sim_table.exists()
             else ["suite,simulation,Omega_m,sigma_8,A_SN1,A_AGN1,A_SN2,A_AGN2,varied"])
    snap_lines = (snap_table.read_text().splitlines() if snap_table.exists()
                  else ["suite,snapshot,redshift"])
    params = {}
    for suite in suites:
        for i, sim in enumerate(sims):
            a_sn1 = 0.25 * 16 ** (i / max(n_sims - 1, 1))
            a_agn2 = 0.5 * 4 ** ((n_sims - 1 - i) / max(n_sims - 1, 1))
            om = omega_m(i) if omega_m else 0.3
            params[(suite, sim)] = (a_sn1, a_agn2, om)
            lines.append(f"{suite},{sim},{om},0.8,{a_sn1:.5f},1.0,1.0,{a_agn2:.5f},both")
        for n, z in snapshots:
            row = f"{suite},{n:03d},{z}"
            if row not in snap_lines:
                snap_lines.append(row)
    sim_table.write_text("\n".join(lines) + "\n")
    snap_table.write_text("\n".join(snap_lines) + "\n")
    x = np.linspace(0, 1, len(MASS_BINS))
    for (suite, sim), (a_sn1, a_agn2, om) in params.items():
        cosmo = flat_lcdm(0.6711, om, 0.049)
        for snap, z in snapshots:
            for k, mass_bin in enumerate(MASS_BINS):
                m = 10 ** (11.2 + 1.3 * x[k])
                r200 = float(halo_radius_mpc(m, cosmo, z))
                f_gas = 0.04 * a_sn1**0.3 * a_agn2**-0.3 * np.exp(0.1 * rng.standard_normal())
                xc = 0.5 * np.exp(0.2 * rng.standard_normal())
                shape = (grid / r200 / xc) ** -0.3 * (1 + grid / r200 / xc) ** -4.0
                rho = f_gas * m / (4 * np.pi * r200**3) * shape / 1e9  # Msun/kpc^3, rough norm
                temp = 2e5 * (m / 1e12) ** (2 / 3) * (1 + grid / r200) ** -0.5
                pressure = rho * temp * 1.38e-23 / (0.59 * 1.67e-27) / 3.0857e19**2  # Msun/kpc/s^2
                write_profile_stack(
                    profile_path(root, suite, sim, snap, mass_bin), grid,
                    {"density": rho, "pressure": pressure,
                     "metallicity": np.full(grid.size, 0.01), "temperature": temp},
                    n_halos=30, mean_m200c_msun=m, mass_range=(11.0, 11.5),
                    halo_count_line=header_variant == "Nhalos")
    return root


def write_emu_clone(tmp_path: Path, lh_parameters: bool = True) -> Path:
    """A clone laid out as emu_CAMELS is: 1P stacks of IllustrisTNG and SIMBA (1P_22..1P_25 at
    snapshots 033 and 032), LH stacks of IllustrisTNG (LH_0..LH_3 at 024), the LH parameter
    file, weighted _w files beside; no simulations.csv or snapshots.csv."""
    flat = tmp_path / "flat"
    write_synthetic_profiles(flat, suites=("IllustrisTNG", "SIMBA"), n_sims=4,
                             snapshots=((33, 0.0), (32, 0.04852)))
    write_synthetic_profiles(flat, suites=("IllustrisTNG",), sim_names=[f"LH_{i}" for i in range(4)],
                             snapshots=((24, 0.53726),), omega_m=lambda i: 0.2 + 0.05 * i)
    clone = tmp_path / "emu_CAMELS"
    for suite in ("IllustrisTNG", "SIMBA"):
        for path in (flat / suite).iterdir():
            sim_set = path.name.split("_")[1]
            dest = clone / "emulator_profiles" / f"{sim_set}_set" / suite / path.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)
            weighted = dest.with_name("_".join(path.name.split("_")[:4]) + "_w.txt")
            weighted.write_text("# weighted profile: another product\n")
    if lh_parameters:
        from pipeline.io.camels_stacks import read_simulation_table

        table = read_simulation_table(flat / "simulations.csv")
        lines = ["#Name  Omega_m  sigma_8  A_SN1     A_AGN1  A_SN2  A_AGN2  seed"]
        for i in range(4):
            p = table[("IllustrisTNG", f"LH_{i}")]
            lines.append(f"  LH_{i} {p['Omega_m']:.5f} {p['sigma_8']:.5f} {p['A_SN1']:.5f} "
                         f"{p['A_AGN1']:.5f} {p['A_SN2']:.5f} {p['A_AGN2']:.5f} {i}")
        params = clone / "scripts" / "LH_emulator" / "CosmoAstroSeed_IllustrisTNG.txt"
        params.parent.mkdir(parents=True)
        params.write_text("\n".join(lines) + "\n")
    return clone
