"""Write one mock simulation (all requested snapshots) in the CAMELS on-disk format."""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..defaults import SCHEMA, schema_defaults
from ..io.gadget_writer import write_group_catalog, write_snapshot
from ..io.tables import write_table
from ..physics.cosmology import flat_lcdm, halo_radius_mpc
from ..physics.gas import GAMMA, internal_energy_km2_s2
from ..physics.nfw import G_MPC_KM2_S2_MSUN, nfw_mu, r500_over_r200, vmax_over_v200
from .gas_model import calibration_provenance, gas_model, gas_profiles, interpolate_per_halo, sample_gas_radii
from .neutral_hydrogen import cell_neutral_fractions, halo_hi_fractions
from .particles import (
    isotropic_offsets,
    sample_hernquist_radii,
    sample_nfw_radii,
)
from .population import HaloPopulation, draw_population
from .subhalos import SIGMA_NOISE_DEX, Occupation, draw_satellites, planted_sigma_v_kms
from .suites import suite_model

__all__ = ["MockOptions", "simulation_rng", "write_mock_snapshot"]

log = logging.getLogger(__name__)

_HOT_ELECTRON_ABUNDANCE = 1.0 + (1.0 - 0.76) / (2.0 * 0.76)  # fully ionised H + He


@dataclass(frozen=True)
@schema_defaults("mock")
class MockOptions:
    """Resolution and content of the mock simulations (see the config schema for meanings)."""

    seed: int = SCHEMA
    box_size_mpc_h: float = SCHEMA
    hubble_param: float = SCHEMA
    omega_b: float = SCHEMA
    dm_particle_mass_msun_h: float = SCHEMA
    gas_particle_mass_msun_h: float = SCHEMA
    log10_halo_mass_min_msun: float = SCHEMA
    background_particles: int = SCHEMA
    #: if set, the smooth background fills dark matter and gas up to this many particles each
    #: (e.g. 256**3 for a CAMELS-size snapshot); else ``background_particles`` of each
    total_particles_per_type: int | None = None
    files_per_snapshot: int = SCHEMA
    multiphase_scatter_dex: float = SCHEMA
    #: planted secondary dependence of the satellite count (pipeline.mock.subhalos.Occupation)
    occupation: dict = SCHEMA
    snapshots: dict[int, float] = field(default_factory=lambda: {90: 0.0})


def simulation_rng(seed: int, suite: str, sim: str, snapshot: int) -> np.random.Generator:
    """Independent, reproducible random stream for one (suite, simulation, snapshot)."""
    return np.random.default_rng(
        [seed, zlib.crc32(suite.encode()), zlib.crc32(sim.encode()), snapshot]
    )


def _wrap(pos: np.ndarray, box: float) -> np.ndarray:
    return np.mod(pos, box)


def _with_wind_cells(stars: dict, pop: HaloPopulation, idx_star: np.ndarray, a: float,
                     to_code_len: float, code_pos, rng: np.random.Generator) -> dict:
    """IllustrisTNG's PartType4 convention: stars carry GFM_StellarFormationTime (the scale factor
    at birth, > 0), and wind-phase cells sit in the same group with times <= 0. About 3% of the
    star particles' number is added as wind cells around each halo (0.1-1 R200c), with their own
    random stream so that the rest of the mock is unchanged; they are not stars, and ingest must
    leave them out of M* (they count in the halo's total mass)."""
    n_star = len(stars["Masses"])
    n_wind = rng.poisson(0.03 * np.bincount(idx_star, minlength=len(pop)))
    idx_wind = np.repeat(np.arange(len(pop)), n_wind)
    x = rng.uniform(0.1, 1.0, len(idx_wind))
    pos_wind = pop.centre_mpc[idx_wind] + isotropic_offsets(rng, x * pop.r200c_mpc[idx_wind])
    out = {}
    for name, values in stars.items():
        extra = values[:1].repeat(len(idx_wind), axis=0)
        if name == "Coordinates":
            extra = code_pos(pos_wind).astype(values.dtype)
        elif name == "ParticleIDs":
            extra = np.arange(len(idx_wind), dtype=np.uint64) + 3 * 10**9
        elif name == "Velocities":
            extra = np.zeros((len(idx_wind), 3), dtype=values.dtype)
        out[name] = np.concatenate([values, extra])
    out["GFM_StellarFormationTime"] = np.concatenate([
        rng.uniform(0.05, a, n_star), -rng.uniform(0.05, a, len(idx_wind))]).astype(np.float32)
    return out


def _subhalos(pop: HaloPopulation, groups: dict, mass_type: np.ndarray, len_type: np.ndarray,
              v200: np.ndarray, sfr_msun_yr: np.ndarray, code_pos, to_code_len: float,
              to_code_mass: float, m_dm: float, box_mpc: float, suite: str,
              rng: np.random.Generator, occupation: Occupation) -> dict[str, np.ndarray]:
    """Subfind's Subhalo fields: each group's central (its particles' masses, NFW Vmax, half-mass
    radius 0.5 R200c with 0.1 dex scatter) followed by its satellites
    (:mod:`pipeline.mock.subhalos`, catalog only), with the planted velocity dispersion; sets
    GroupFirstSub and GroupNsubs in ``groups``. Its own random stream: the haloes and particles
    do not change with the subhaloes."""
    n_halo = len(pop)
    sat = draw_satellites(rng, pop.m200c_msun, pop.r200c_mpc, pop.c200c, pop.centre_mpc, box_mpc,
                          suite, pop.formation_offset, occupation)
    n_s = len(sat["host"])
    n_sat = np.bincount(sat["host"], minlength=n_halo)
    # Subfind order: per group the central, then its satellites
    central_rows = np.concatenate([[0], np.cumsum(1 + n_sat)[:-1]]).astype(np.int64)
    sat_rows = np.setdiff1d(np.arange(n_halo + n_s), central_rows)
    mtot_c = mass_type.sum(axis=1) / to_code_mass  # Msun
    rhalf_c_kpc = 0.5 * pop.r200c_mpc * 1000.0 * 10 ** (0.1 * rng.standard_normal(n_halo))
    fstar_c = mass_type[:, 4] / to_code_mass / np.maximum(mtot_c, 1e-30)
    sigma_c = planted_sigma_v_kms(mtot_c, rhalf_c_kpc, fstar_c, 0.0) * 10 ** (
        SIGMA_NOISE_DEX * rng.standard_normal(n_halo))
    kpc_to_code = to_code_len / 1000.0

    def both(central, satellite, dtype=np.float32):
        out = np.zeros((n_halo + n_s,) + np.shape(central)[1:], dtype=dtype)
        out[central_rows], out[sat_rows] = central, satellite
        return out

    sat_type = np.zeros((n_s, 6))
    sat_type[:, 1] = (sat["mtot_msun"] - sat["mstar_msun"]) * to_code_mass
    sat_type[:, 4] = sat["mstar_msun"] * to_code_mass
    sat_len = np.zeros((n_s, 6), dtype=np.int64)
    sat_len[:, 1] = np.maximum(np.rint((sat["mtot_msun"] - sat["mstar_msun"]) / m_dm), 1)
    half_c = np.zeros((n_halo, 6))
    half_c[:, 1] = rhalf_c_kpc * kpc_to_code
    # Hernquist a = 0.015 R200c: half the stars within 0.036 R200c
    half_c[:, 4] = (0.036 * pop.r200c_mpc * 1000.0 * kpc_to_code
                    * 10 ** (0.15 * rng.standard_normal(n_halo)))
    half_s = np.zeros((n_s, 6))
    half_s[:, 1] = sat["rhalf_kpc"] * kpc_to_code
    half_s[:, 4] = sat["rhalf_star_kpc"] * kpc_to_code
    groups["GroupFirstSub"] = central_rows.astype(np.int32)
    groups["GroupNsubs"] = (1 + n_sat).astype(np.int32)
    return {
        "SubhaloPos": both(groups["GroupPos"], code_pos(sat["pos_mpc"])),
        "SubhaloGrNr": both(np.arange(n_halo), sat["host"], np.int32),
        "SubhaloMass": both(mass_type.sum(axis=1), sat["mtot_msun"] * to_code_mass),
        "SubhaloMassType": both(mass_type, sat_type),
        "SubhaloLenType": both(len_type, sat_len, np.int32),
        "SubhaloLen": both(len_type.sum(axis=1), sat_len.sum(axis=1), np.int32),
        "SubhaloVmax": both(v200 * vmax_over_v200(pop.c200c), sat["vmax_kms"]),
        "SubhaloVmaxRad": both(2.163 * pop.r200c_mpc / pop.c200c * to_code_len,
                               2.0 * sat["rhalf_kpc"] * kpc_to_code),
        "SubhaloVelDisp": both(sigma_c, sat["sigma_v_kms"]),
        "SubhaloHalfmassRad": both(rhalf_c_kpc * kpc_to_code, sat["rhalf_kpc"] * kpc_to_code),
        "SubhaloHalfmassRadType": both(half_c, half_s),
        "SubhaloSFR": both(sfr_msun_yr, np.zeros(n_s)),
        "SubhaloBHMass": np.zeros(n_halo + n_s, dtype=np.float32),
        "SubhaloGasMetallicity": both(pop.metallicity_norm, np.zeros(n_s)),
        "SubhaloStarMetallicity": np.full(n_halo + n_s, 0.02, dtype=np.float32),
    }


def _sample_gas(rng: np.random.Generator, pop: HaloPopulation, n_gas: np.ndarray, tables: tuple,
                x_gas: float, m_gas: float, multiphase_scatter_dex: float) -> tuple:
    """The gas particles of every halo (physical units): positions from the calibrated density,
    specific internal energy from its thermal pressure with a mean-preserving multiphase scatter
    [km^2/s^2], electron abundance, mass [Msun], star formation rate [Msun/yr] (half the gas
    inside 0.05 R200c is star-forming, at 10^5.5 K, depletion time 1 Gyr), metallicity and the
    model density [Msun/Mpc^3]. Returns (halo index, r/R200c, position, u, x_e, mass, SFR, Z,
    density) per particle; draws from ``rng`` in a fixed order (the mock is reproducible)."""
    rho_table, sigma2_table, enclosed = tables
    idx_gas = np.repeat(np.arange(len(pop)), n_gas)
    x_g = sample_gas_radii(rng, idx_gas, enclosed, x_gas)
    pos_gas = pop.centre_mpc[idx_gas] + isotropic_offsets(rng, x_g * pop.r200c_mpc[idx_gas])
    sigma2 = interpolate_per_halo(idx_gas, x_g, sigma2_table)
    s = multiphase_scatter_dex * np.log(10.0)
    u_gas = sigma2 / (GAMMA - 1.0) * np.exp(s * rng.standard_normal(len(x_g)) - 0.5 * s**2)
    xe_gas = np.full(len(x_g), _HOT_ELECTRON_ABUNDANCE)
    star_forming = (x_g < 0.05) & (rng.uniform(size=len(x_g)) < 0.5)
    u_gas[star_forming] = internal_energy_km2_s2(10**5.5, 1.0)
    xe_gas[star_forming] = 1.0
    mass_gas = m_gas * rng.uniform(0.8, 1.2, len(x_g))
    sfr = np.where(star_forming, mass_gas / 1.0e9, 0.0)
    metallicity = pop.metallicity_norm[idx_gas] * (x_g + 0.02) ** -0.3
    rho_gas = interpolate_per_halo(idx_gas, x_g, rho_table)
    return idx_gas, x_g, pos_gas, u_gas, xe_gas, mass_gas, sfr, metallicity, rho_gas


@dataclass(frozen=True)
class _Particles:
    """Per-halo particle counts and the gas particles' halo, mass [Msun] and star formation rate
    [Msun/yr] of one mock snapshot, with the dark-matter and star particle masses [Msun]: what
    the group catalog sums."""

    n_gas: np.ndarray
    n_dm: np.ndarray
    n_star: np.ndarray
    idx_gas: np.ndarray
    mass_gas: np.ndarray
    sfr: np.ndarray
    m_dm: float
    m_star: float


def _write_catalog(catalog_path, pop: HaloPopulation, cosmo, redshift: float, params: dict,
                   options: MockOptions, parts: _Particles, v200: np.ndarray, code_pos,
                   to_code_len: float, to_code_mass: float, box_mpc: float, suite: str,
                   rng: np.random.Generator) -> None:
    """The Subfind catalog of a mock snapshot: one group per halo (M500c, R500c from its NFW
    profile), its particles' counts and masses by type, the subhaloes (:mod:`.subhalos`, drawn
    from ``rng``), in code units."""
    n_halo = len(pop)
    x500 = r500_over_r200(pop.c200c)
    m500 = pop.m200c_msun * nfw_mu(pop.c200c * x500) / nfw_mu(pop.c200c)
    r500 = halo_radius_mpc(m500, cosmo, redshift, 500.0)
    len_type = np.zeros((n_halo, 6), dtype=np.int32)
    len_type[:, 0], len_type[:, 1], len_type[:, 4] = parts.n_gas, parts.n_dm, parts.n_star
    mass_type = np.zeros((n_halo, 6), dtype=np.float32)
    mass_type[:, 0] = np.bincount(parts.idx_gas, parts.mass_gas, n_halo) * to_code_mass
    mass_type[:, 1] = parts.n_dm * parts.m_dm * to_code_mass
    mass_type[:, 4] = parts.n_star * parts.m_star * to_code_mass
    centre_code = code_pos(pop.centre_mpc).astype(np.float32)
    groups = {
        "GroupPos": centre_code,
        "Group_M_Crit200": (pop.m200c_msun * to_code_mass).astype(np.float32),
        "Group_R_Crit200": (pop.r200c_mpc * to_code_len).astype(np.float32),
        "Group_M_Crit500": (m500 * to_code_mass).astype(np.float32),
        "Group_R_Crit500": (r500 * to_code_len).astype(np.float32),
        "GroupLenType": len_type,
        "GroupLen": len_type.sum(axis=1).astype(np.int32),
        "GroupMassType": mass_type,
        "GroupMass": mass_type.sum(axis=1),
        "GroupFirstSub": np.arange(n_halo, dtype=np.int32),
        "GroupNsubs": np.ones(n_halo, dtype=np.int32),
    }
    subhalos = _subhalos(pop, groups, mass_type, len_type, v200,
                         np.bincount(parts.idx_gas, parts.sfr, n_halo), code_pos, to_code_len,
                         to_code_mass, parts.m_dm, box_mpc, suite, rng,
                         Occupation(**options.occupation))
    cat_header = {
        "BoxSize": options.box_size_mpc_h * 1000.0, "Redshift": redshift,
        "Time": 1.0 / (1.0 + redshift), "HubbleParam": options.hubble_param,
        "Omega0": params["Omega_m"], "OmegaLambda": 1.0 - params["Omega_m"],
    }
    write_group_catalog(catalog_path, cat_header, groups, subhalos, options.files_per_snapshot)


def _write_truth(truth_path, pop: HaloPopulation, suite: str, sim: str, snapshot: int,
                 redshift: float, params: dict, options: MockOptions, gas_physics,
                 extra: dict[str, np.ndarray]) -> None:
    """The latent properties the mock drew for each halo (for the noise floor), physical units;
    ``extra``: more per-halo columns (the planted HI fraction and the overdensity it read)."""
    truth = Table(
        {
            "group_index": np.arange(len(pop)),
            "M200c": pop.m200c_msun * u.Msun,
            "R200c": pop.r200c_mpc * u.Mpc,
            "c200c": pop.c200c,
            "formation_offset": pop.formation_offset,
            "Mstar200c": pop.mstar_msun * u.Msun,
            "Mgas200c": pop.mgas_msun * u.Msun,
            "gas_concentration": pop.gas_concentration,
            "gas_outer_slope": pop.gas.outer_slope,
            "temperature_factor": 10.0**pop.gas.log10_eta,
            "nonthermal_fraction_r200": pop.gas.nonthermal_fraction_r200,
            **extra,
        },
        meta={"suite": suite, "sim": sim, "snapshot": snapshot, "redshift": redshift,
              "params": dict(params), "seed": options.seed,
              "gas_model": gas_physics.as_dict(), "gas_calibration": calibration_provenance()},
    )
    write_table(truth, truth_path)


def write_mock_snapshot(
    snapshot_path: str | Path,
    catalog_path: str | Path,
    truth_path: str | Path,
    suite: str,
    sim: str,
    snapshot: int,
    params: dict[str, float],
    options: MockOptions,
    mass_function_cache: str | Path | None = None,
) -> HaloPopulation:
    """Draw one mock snapshot of ``suite``/``sim`` and write snapshot, catalog and truth table.

    ``params`` holds Omega_m, sigma_8, A_SN1, A_AGN1, A_SN2, A_AGN2 (a row of the parameter file).
    ``mass_function_cache``: a folder shared by the mock's jobs that keeps the halo mass function
    of each cosmology and redshift (the same numbers, without colossus in every job).
    Returns the drawn halo population (physical units).

    Every draw comes from one stream per (seed, suite, sim, snapshot), in a fixed order
    (population, particle counts, dark matter, gas, stars, background, file order, velocities):
    the steps below keep that order, so a mock is the same file on every machine.
    """
    model = suite_model(suite)
    gas_physics = gas_model(suite)
    redshift = float(options.snapshots[snapshot])
    a = 1.0 / (1.0 + redshift)
    h = options.hubble_param
    cosmo = flat_lcdm(h, params["Omega_m"], options.omega_b)
    rng = simulation_rng(options.seed, suite, sim, snapshot)
    box_mpc = options.box_size_mpc_h / h * a  # physical
    pop = draw_population(
        rng, cosmo, params["sigma_8"], redshift, box_mpc, params, model,
        options.log10_halo_mass_min_msun, gas_physics, mass_function_cache,
    )
    drawn = _draw_particles(rng, pop, gas_physics, options, box_mpc)
    units = _CodeUnits(h, a, options.box_size_mpc_h)
    order = _file_order(rng, drawn, model.sorted_by_group)
    gas = _gas_fields(rng, drawn, units, order[1], model)
    # neutral hydrogen from its own random stream: every other field is drawn as before
    f_hi_halo, delta_hi = halo_hi_fractions(simulation_rng(options.seed + 3, suite, sim, snapshot),
                                            pop.centre_mpc, pop.m200c_msun, box_mpc, suite)
    gas["NeutralHydrogenAbundance"] = cell_neutral_fractions(
        drawn.idx_gas, drawn.sfr > 0, f_hi_halo, drawn.n_bg_gas).astype(np.float32)[order[1]]
    dm, mass_table = _dm_fields(rng, drawn, units, order[0], model)
    stars = _star_fields(rng, drawn, units, order[2], model)
    if model.wind_cells:
        stars = _with_wind_cells(stars, pop, drawn.idx_star, a, units.length, units.position,
                                 simulation_rng(options.seed + 1, suite, sim, snapshot))
    header = _snapshot_header(units, redshift, params, options, mass_table)
    write_snapshot(snapshot_path, header, {0: gas, 1: dm, 4: stars}, options.files_per_snapshot)

    _write_catalog(catalog_path, pop, cosmo, redshift, params, options, _Particles(
        n_gas=drawn.n_gas, n_dm=drawn.n_dm, n_star=drawn.n_star, idx_gas=drawn.idx_gas,
        mass_gas=drawn.mass_gas, sfr=drawn.sfr, m_dm=drawn.m_dm, m_star=drawn.m_star),
        drawn.v200, units.position, units.length, units.mass, box_mpc, suite,
        simulation_rng(options.seed + 2, suite, sim, snapshot))
    _write_truth(truth_path, pop, suite, sim, snapshot, redshift, params, options, gas_physics,
                 {"hi_fraction": f_hi_halo, "hi_overdensity": delta_hi})
    log.info(
        "%s/%s snapshot %03d: %d haloes, %d gas, %d dm, %d star particles",
        suite, sim, snapshot, len(pop), len(gas["Masses"]), len(dm["Coordinates"]),
        len(stars["Masses"]),
    )
    return pop


@dataclass(frozen=True)
class _CodeUnits:
    """The snapshot's code units: lengths in ckpc/h, masses in 1e10 Msun/h, periodic box."""

    h: float
    a: float
    box_mpc_h: float

    @property
    def length(self) -> float:
        return self.h / self.a * 1000.0  # physical Mpc -> ckpc/h

    @property
    def mass(self) -> float:
        return self.h / 1.0e10  # Msun -> 1e10 Msun/h

    @property
    def box(self) -> float:
        return self.box_mpc_h * 1000.0

    def position(self, p: np.ndarray) -> np.ndarray:
        return _wrap(p * self.length, self.box)


@dataclass(frozen=True)
class _Drawn:
    """The particles of one mock snapshot in physical units, haloes' first then the smooth
    background: per-halo counts, each particle's halo (``idx_*``), positions [Mpc], the gas
    cells' thermodynamics and the particle masses [Msun]."""

    n_dm: np.ndarray
    n_gas: np.ndarray
    n_star: np.ndarray
    idx_dm: np.ndarray
    idx_gas: np.ndarray
    idx_star: np.ndarray
    pos_dm: np.ndarray  # haloes' then background
    pos_gas: np.ndarray
    pos_star: np.ndarray
    u_gas: np.ndarray  # haloes' cells only (the background's are set when written)
    xe_gas: np.ndarray
    mass_gas: np.ndarray
    sfr: np.ndarray
    metallicity: np.ndarray
    rho_gas: np.ndarray
    v200: np.ndarray  # km/s, per halo
    n_bg_dm: int
    n_bg_gas: int
    m_dm: float
    m_gas: float
    m_star: float


def _draw_particles(rng: np.random.Generator, pop: HaloPopulation, gas_physics, options: MockOptions,
                    box_mpc: float) -> _Drawn:
    """Particle counts per halo (dark matter and gas out to 2 R200c, stars to 0.3 R200c), their
    positions and the gas cells, then the smooth background outside haloes (in this order)."""
    h = options.hubble_param
    n_halo = len(pop)
    m_dm = options.dm_particle_mass_msun_h / h
    m_gas = options.gas_particle_mass_msun_h / h
    m_star = m_gas
    # gas tables on X_GRID: density, thermal P / rho and enclosed mass of every halo
    rho_table, sigma2_table, enclosed = gas_profiles(
        pop.m200c_msun, pop.r200c_mpc, pop.c200c, pop.mgas_msun, pop.gas, gas_physics.inner_slope)
    x_dm, x_gas = 2.0, 2.0
    mdm_in_r200 = pop.m200c_msun - pop.mgas_msun - pop.mstar_msun
    n_dm = rng.poisson(mdm_in_r200 * nfw_mu(pop.c200c * x_dm) / nfw_mu(pop.c200c) / m_dm)
    gas_to_x_gas = interpolate_per_halo(np.arange(n_halo), np.full(n_halo, x_gas), enclosed)
    n_gas = rng.poisson(pop.mgas_msun * gas_to_x_gas / m_gas)
    n_star = rng.poisson(pop.mstar_msun / m_star)
    idx_dm = np.repeat(np.arange(n_halo), n_dm)
    r_dm = sample_nfw_radii(rng, pop.c200c[idx_dm], x_dm) * pop.r200c_mpc[idx_dm]
    pos_dm = pop.centre_mpc[idx_dm] + isotropic_offsets(rng, r_dm)
    v200 = np.sqrt(G_MPC_KM2_S2_MSUN * pop.m200c_msun / pop.r200c_mpc)  # km/s
    idx_gas, x_g, pos_gas, u_gas, xe_gas, mass_gas, sfr, metallicity, rho_gas = _sample_gas(
        rng, pop, n_gas, (rho_table, sigma2_table, enclosed), x_gas, m_gas,
        options.multiphase_scatter_dex)
    idx_star = np.repeat(np.arange(n_halo), n_star)
    x_s = sample_hernquist_radii(rng, np.full(len(idx_star), 0.015), 0.3)
    pos_star = pop.centre_mpc[idx_star] + isotropic_offsets(rng, x_s * pop.r200c_mpc[idx_star])
    n_bg_dm = n_bg_gas = options.background_particles
    if options.total_particles_per_type:
        n_bg_dm = max(options.total_particles_per_type - len(r_dm), 0)
        n_bg_gas = max(options.total_particles_per_type - len(x_g), 0)
    pos_bg_dm = rng.uniform(0, box_mpc, (n_bg_dm, 3))
    pos_bg_gas = rng.uniform(0, box_mpc, (n_bg_gas, 3))
    return _Drawn(n_dm=n_dm, n_gas=n_gas, n_star=n_star, idx_dm=idx_dm, idx_gas=idx_gas,
                  idx_star=idx_star, pos_dm=np.concatenate([pos_dm, pos_bg_dm]),
                  pos_gas=np.concatenate([pos_gas, pos_bg_gas]), pos_star=pos_star, u_gas=u_gas,
                  xe_gas=xe_gas, mass_gas=mass_gas, sfr=sfr, metallicity=metallicity,
                  rho_gas=rho_gas, v200=v200, n_bg_dm=n_bg_dm, n_bg_gas=n_bg_gas, m_dm=m_dm,
                  m_gas=m_gas, m_star=m_star)


def _file_order(rng: np.random.Generator, drawn: _Drawn, sorted_by_group: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order particles are written in, per type (dark matter, gas, stars): by group, as
    Subfind writes IllustrisTNG snapshots, or shuffled, as GIZMO and MP-Gadget outputs are."""
    n_dm, n_gas, n_star = len(drawn.pos_dm), len(drawn.pos_gas), len(drawn.pos_star)
    if sorted_by_group:
        return np.arange(n_dm), np.arange(n_gas), np.arange(n_star)
    return rng.permutation(n_dm), rng.permutation(n_gas), rng.permutation(n_star)


def _velocities(rng: np.random.Generator, sigma: np.ndarray) -> np.ndarray:
    """Isotropic Gaussian velocities [km/s] with 1D dispersion ``sigma`` per particle."""
    return (rng.standard_normal((len(sigma), 3)) * sigma[:, None]).astype(np.float32)


def _gas_fields(rng: np.random.Generator, drawn: _Drawn, units: _CodeUnits, order: np.ndarray,
                model) -> dict[str, np.ndarray]:
    """PartType0 in code units, in file order; the background is warm (10^4.5 K), ionised
    IGM-density gas of primordial metallicity."""
    n_bg = drawn.n_bg_gas
    u_all = np.concatenate([drawn.u_gas, np.full(n_bg, internal_energy_km2_s2(10**4.5, 1.0))])
    xe_all = np.concatenate([drawn.xe_gas, np.ones(n_bg)])
    mgas_all = np.concatenate([drawn.mass_gas, np.full(n_bg, drawn.m_gas)])
    sfr_all = np.concatenate([drawn.sfr, np.zeros(n_bg)])
    z_all = np.concatenate([drawn.metallicity, np.full(n_bg, 1e-4)])
    rho_all = np.concatenate([drawn.rho_gas, np.full(n_bg, 200.0 * 1.0)])  # rough IGM density
    rho_code = rho_all * units.mass / units.length**3
    n = len(drawn.pos_gas)
    sigma = np.concatenate([drawn.v200[drawn.idx_gas] / np.sqrt(3), np.full(n_bg, 50.0)])
    gas = {
        "Coordinates": units.position(drawn.pos_gas)[order],
        "Velocities": _velocities(rng, sigma)[order],
        "ParticleIDs": (np.arange(n, dtype=np.uint64) + 1)[order],
        "Masses": (mgas_all * units.mass).astype(np.float32)[order],
        "InternalEnergy": u_all.astype(np.float32)[order],
        "ElectronAbundance": xe_all.astype(np.float32)[order],
        "Density": rho_code.astype(np.float32)[order],
        "StarFormationRate": sfr_all.astype(np.float32)[order],
    }
    if model.metallicity_2d:
        zz = np.zeros((n, 11), dtype=np.float32)
        zz[:, 0] = z_all
        zz[:, 1] = 0.25  # helium
        gas[model.metallicity_field] = zz[order]
    else:
        gas[model.metallicity_field] = z_all.astype(np.float32)[order]
    return gas


def _dm_fields(rng: np.random.Generator, drawn: _Drawn, units: _CodeUnits, order: np.ndarray,
               model) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """PartType1 in code units, in file order, and the header's mass table (the dark-matter
    mass there or per particle, as the suite's code writes it)."""
    n = len(drawn.pos_dm)
    sigma = np.concatenate([drawn.v200[drawn.idx_dm] / np.sqrt(2), np.full(drawn.n_bg_dm, 50.0)])
    dm = {
        "Coordinates": units.position(drawn.pos_dm)[order],
        "Velocities": _velocities(rng, sigma)[order],
        "ParticleIDs": (np.arange(n, dtype=np.uint64) + 10**9)[order],
    }
    mass_table = np.zeros(6)
    if model.dm_in_mass_table:
        mass_table[1] = drawn.m_dm * units.mass
    else:
        dm["Masses"] = np.full(n, drawn.m_dm * units.mass, dtype=np.float32)
    return dm, mass_table


def _star_fields(rng: np.random.Generator, drawn: _Drawn, units: _CodeUnits, order: np.ndarray,
                 model) -> dict[str, np.ndarray]:
    """PartType4 in code units, in file order."""
    n = len(drawn.pos_star)
    return {
        "Coordinates": units.position(drawn.pos_star)[order],
        "Velocities": _velocities(rng, drawn.v200[drawn.idx_star] / 2.0)[order],
        "ParticleIDs": (np.arange(n, dtype=np.uint64) + 2 * 10**9)[order],
        "Masses": np.full(n, drawn.m_star * units.mass, dtype=np.float32),
        "GFM_Metallicity" if not model.metallicity_2d else "Metallicity":
            np.full(n, 0.02, dtype=np.float32),
    }


def _snapshot_header(units: _CodeUnits, redshift: float, params: dict[str, float],
                     options: MockOptions, mass_table: np.ndarray) -> dict:
    """The snapshot's Header attributes (Gadget/Arepo names)."""
    return {
        "BoxSize": units.box,
        "Redshift": redshift,
        "Time": units.a,
        "HubbleParam": units.h,
        "Omega0": params["Omega_m"],
        "OmegaLambda": 1.0 - params["Omega_m"],
        "OmegaBaryon": options.omega_b,
        "MassTable": mass_table,
        "Flag_Sfr": np.int32(1),
        "Flag_Cooling": np.int32(1),
        "Flag_Feedback": np.int32(1),
        "Flag_StellarAge": np.int32(1),
        "Flag_Metals": np.int32(1),
        "Flag_DoublePrecision": np.int32(1),
    }
