"""Calibration of the mock's gas model against the real CAMELS 1P stacked profiles.

The reference: the emu_CAMELS stacks (Moser et al. 2022) of IllustrisTNG and SIMBA, 1P set (one
feedback parameter varied at a time), four halo-mass bins, snapshots between z = 0 and 0.54. The
mock's prediction of one stack: the mean profile, at the stack's physical radii, of a sample of
haloes drawn in the stack's mass bin from the mock's own mass function (Tinker+08), with the mock's
scatter; the deviates are shared between simulations (common random numbers), so the predicted
response to a feedback parameter is smooth in the fitted numbers.

The fit: least squares (soft-L1, scale 0.1 dex) of log10 density and log10 pressure at every
stack radius between 0.1 and 1 R200c (R200c of the stack's mean mass) and of each stack's
Y(<R200c) (weight 2) and of each feedback response Y[A max] / Y[A min] (weight 3), over every 1P
simulation and the calibration snapshots, per suite, with weak priors that keep unconstrained
directions physical. The result goes to ``pipeline/mock/data/gas_calibration.json`` with its
provenance, so that mock runs never need the reference data.

A maintainer's tool, not part of the installed package (the mock only reads its output)::

    python tools/mock_calibration.py --reference ../shared/data/emu_CAMELS [--max-nfev 60]

``bench/calibration.py`` prints how closely the shipped calibration matches the reference.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy import units as u

from pipeline.errors import InputFileError
from pipeline.io.atomic import atomic_path
from pipeline.io.camels_facts import CAMELS_PARAMETERS, legacy_1p_varied
from pipeline.io.camels_stacks import (
    FIDUCIAL_SIM,
    MASS_BINS,
    REFERENCE_SUITES,
    is_emu_clone,
    list_stack_files,
    profile_path,
    read_profile_stack,
    stack_parameters,
    stack_redshifts,
)
from pipeline.mock.gas_model import (
    FEEDBACK_PARAMS,
    FREE_FIELDS,
    X_GRID,
    GasModel,
    HaloGas,
    gas_model,
    gas_profiles,
    interpolate_per_halo,
    pressure_unit_factor,
)
from pipeline.mock.population import draw_deviates, halo_baryons, mass_function_dn_dlog10m
from pipeline.mock.suites import suite_model
from pipeline.physics.cosmology import flat_lcdm, halo_radius_mpc
from pipeline.physics.profile_integrals import compton_y_from_pressure_mpc2
from pipeline.provenance import provenance

__all__ = [
    "ReferenceStack", "load_reference", "StackPredictor", "fit_gas_model", "calibrate",
    "mismatch_table", "calibration_summary", "FIT_RANGE_R200C", "CALIBRATION_SNAPSHOTS",
]

log = logging.getLogger(__name__)

#: z = 0, 0.21, 0.54 of the 1P runs.
CALIBRATION_SNAPSHOTS = (33, 29, 24)
FIT_RANGE_R200C = (0.1, 1.0)
#: the response target's stack: the most massive bin at z = 0.
RESPONSE_BIN = "12.3-13.1"
_COSMOLOGY = {"hubble_param": 0.6711, "omega_b": 0.049}
_MSUN_KPC3_PER_MSUN_MPC3 = 1.0e-9
#: weight of each stack's log10 Y(<R200c) residual against one profile point's.
Y_WEIGHT = 2.0
#: weight of each feedback response, log10 Y[A max] / Y[A min] per snapshot and mass bin.
RESPONSE_WEIGHT = 3.0


@dataclass(frozen=True)
class ReferenceStack:
    """One real stack: mean density [Msun/kpc^3] and thermal pressure [Msun/kpc/s^2] at
    ``radius_mpc`` [physical Mpc], with the simulation's parameters."""

    suite: str
    sim: str
    varied: str
    snapshot: int
    redshift: float
    mass_bin: str
    feedback: dict
    omega_m: float
    sigma8: float
    radius_mpc: np.ndarray
    density: np.ndarray
    pressure: np.ndarray
    mean_m200c_msun: float
    n_halos: int

    r200c_mpc: float = 0.0  # of the mean mass, at the redshift (set by load_reference)

    def fit_mask(self) -> np.ndarray:
        x = self.radius_mpc / self.r200c_mpc
        return (x >= FIT_RANGE_R200C[0]) & (x <= FIT_RANGE_R200C[1])

    def compton_y_mpc2(self, pressure: np.ndarray | None = None) -> float:
        """Y(<R200c) [Mpc^2] of this stack's (or the given) mean pressure profile."""
        p = self.pressure if pressure is None else pressure
        # the same radii for real and mock: out to the first radius beyond R200c
        keep = self.radius_mpc <= self.radius_mpc[np.searchsorted(self.radius_mpc, self.r200c_mpc)]
        return float(compton_y_from_pressure_mpc2(
            self.radius_mpc[keep] * u.Mpc, p[keep] * u.Msun / u.kpc / u.s**2,
            self.r200c_mpc * u.Mpc))


def _simulations(root: Path, suite: str) -> dict[tuple[str, str], dict]:
    """(suite, 1P simulation) -> its parameters and the one it varies (``varied``): from an
    emu_CAMELS clone and the legacy 1P grid, or from a flat folder's ``simulations.csv``."""
    if is_emu_clone(root):
        sims = [s for s in list_stack_files(root, suite) if s.startswith("1P_")]
        params = stack_parameters(root, suite, sims)
        return {(suite, s): {**params[(suite, s)], "varied": legacy_1p_varied(s)} for s in sims}
    path = root / "simulations.csv"
    if not path.exists():
        raise InputFileError(f"reference simulation table {path} does not exist (give an "
                             "emu_CAMELS clone or a folder with simulations.csv)")
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    need = {"suite", "simulation", *CAMELS_PARAMETERS, "varied"}
    if not rows or not need <= set(rows[0]):
        raise InputFileError(f"{path}: needs columns {sorted(need)}")
    return {(r["suite"], r["simulation"]): r for r in rows}


def load_reference(
    root: str | Path, suite: str, snapshots=CALIBRATION_SNAPSHOTS, sims: list[str] | None = None,
    mass_bins=MASS_BINS,
) -> list[ReferenceStack]:
    """Every stack of ``suite`` (all 1P simulations unless ``sims``) at ``snapshots``."""
    root = Path(root)
    table = _simulations(root, suite)
    redshifts = stack_redshifts(root)
    names = sims or sorted(s for (su, s) in table if su == suite)
    if not names:
        raise InputFileError(f"{root} holds no 1P simulation of suite {suite!r}")
    out = []
    for sim in names:
        row = table[(suite, sim)]
        for snap in snapshots:
            if (suite, int(snap)) not in redshifts:
                raise InputFileError(f"{root}: no redshift known for {suite} snapshot {snap:03d}")
            for mass_bin in mass_bins:
                stack = read_profile_stack(profile_path(root, suite, sim, snap, mass_bin))
                out.append(ReferenceStack(
                    suite=suite, sim=sim, varied=row["varied"], snapshot=int(snap),
                    redshift=redshifts[(suite, int(snap))], mass_bin=mass_bin,
                    feedback={p: float(row[p]) for p in FEEDBACK_PARAMS},
                    omega_m=float(row["Omega_m"]), sigma8=float(row["sigma_8"]),
                    radius_mpc=stack.radius.to_value(u.Mpc),
                    density=stack.mean("density").to_value(u.Msun / u.kpc**3),
                    pressure=stack.mean("pressure").to_value(u.Msun / u.kpc / u.s**2),
                    mean_m200c_msun=float(stack.mean_m200c.to_value(u.Msun)),
                    n_halos=stack.n_halos,
                    r200c_mpc=float(halo_radius_mpc(
                        float(stack.mean_m200c.to_value(u.Msun)),
                        flat_lcdm(_COSMOLOGY["hubble_param"], float(row["Omega_m"]),
                                  _COSMOLOGY["omega_b"]),
                        redshifts[(suite, int(snap))], 200.0)),
                ))
    return out


def _bin_edges(mass_bin: str) -> tuple[float, float]:
    lo, hi = mass_bin.split("-")
    return float(lo), float(hi)


class StackPredictor:
    """The mock's mean stacked profiles at the radii of a list of reference stacks.

    Each (redshift, mass bin) gets ``halos_per_stack`` haloes: log-masses at the mid-quantiles of
    the mass function inside the bin, and one set of deviates (seeded), shared by every
    simulation of that (redshift, bin).
    """

    def __init__(self, stacks: list[ReferenceStack], halos_per_stack: int = 32, seed: int = 0):
        if not stacks:
            raise ValueError("no reference stacks to predict")
        self.stacks = stacks
        self.k = int(halos_per_stack)
        self.suite = suite_model(stacks[0].suite)
        cosmo = flat_lcdm(_COSMOLOGY["hubble_param"], stacks[0].omega_m, _COSMOLOGY["omega_b"])
        self.baryon_fraction = _COSMOLOGY["omega_b"] / stacks[0].omega_m
        self._samples = {}
        for z, mass_bin in sorted({(s.redshift, s.mass_bin) for s in stacks}):
            lo, hi = _bin_edges(mass_bin)
            grid = np.linspace(lo, hi, 200)
            dn = mass_function_dn_dlog10m(cosmo, stacks[0].sigma8, z, grid)
            cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dn[1:] + dn[:-1]) * np.diff(grid))])
            log_m = np.interp((np.arange(self.k) + 0.5) / self.k * cdf[-1], cdf, grid)
            rng = np.random.default_rng([seed, int(round(z * 1e4)), int(lo * 100)])
            m = 10**log_m
            self._samples[(z, mass_bin)] = (
                m, halo_radius_mpc(m, cosmo, z, 200.0), draw_deviates(rng, self.k))
        self.n_r = max(len(s.radius_mpc) for s in stacks)
        self._fit = [s.fit_mask() & (s.density > 0) & (s.pressure > 0) for s in stacks]
        self._log_real = [(np.log10(s.density[k]), np.log10(s.pressure[k]))
                          for s, k in zip(stacks, self._fit, strict=True)]
        # Y(<R200c) proxy: sum of P r^3 over the log-spaced radii inside R200c (the integral of
        # P 4 pi r^3 d ln r up to a constant), which the response targets are ratios of
        self._y_weight = [np.where(s.radius_mpc <= s.r200c_mpc, s.radius_mpc**3, 0.0)
                          for s in stacks]
        self._log_y_real = np.array([np.log10(np.sum(w * s.pressure))
                                     for w, s in zip(self._y_weight, stacks, strict=True)])
        # the stacks at the lowest and highest value of each varied parameter, per snapshot and
        # mass bin: their Y ratio is the feedback response
        groups: dict[tuple, list[int]] = {}
        for i, s in enumerate(stacks):
            if s.varied in s.feedback:
                groups.setdefault((s.varied, s.snapshot, s.mass_bin), []).append(i)
        self._pairs = np.array(
            [(min(idx, key=lambda i: stacks[i].feedback[key[0]]),
              max(idx, key=lambda i: stacks[i].feedback[key[0]]))
             for key, idx in sorted(groups.items()) if len(idx) > 1], dtype=np.int64).reshape(-1, 2)

    def predict(self, model: GasModel) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Mean density [Msun/kpc^3] and pressure [Msun/kpc/s^2] of every stack at its radii."""
        m_all, r_all, c_all, mg_all, gases = [], [], [], [], []
        for s in self.stacks:
            m, r200, dev = self._samples[(s.redshift, s.mass_bin)]
            b = halo_baryons(m, s.redshift, _COSMOLOGY["hubble_param"], self.baryon_fraction,
                             s.feedback, self.suite, model, dev)
            m_all.append(m)
            r_all.append(r200)
            c_all.append(b.c200c)
            mg_all.append(b.mgas_msun)
            gases.append(b.gas)
        gas = HaloGas.concatenate(gases)
        r200 = np.concatenate(r_all)
        rho, sigma2, _ = gas_profiles(np.concatenate(m_all), r200, np.concatenate(c_all),
                                      np.concatenate(mg_all), gas, model.inner_slope)
        pressure = rho * sigma2 * pressure_unit_factor()
        radii = np.full((len(self.stacks), self.n_r), np.nan)
        for i, s in enumerate(self.stacks):
            radii[i, :len(s.radius_mpc)] = s.radius_mpc
        radius_per_halo = np.repeat(radii, self.k, axis=0)
        x = np.nan_to_num(radius_per_halo / r200[:, None], nan=1.0)
        halo = np.repeat(np.arange(len(r200)), self.n_r)
        rho_at = interpolate_per_halo(halo, x.ravel(), rho).reshape(x.shape)
        p_at = interpolate_per_halo(halo, x.ravel(), np.maximum(pressure, 1e-300)).reshape(x.shape)
        # beyond the model's outer radius (5 R200c) there is no gas model: NaN, not a guess
        outside = x > X_GRID[-1]
        rho_at[outside] = np.nan
        p_at[outside] = np.nan
        rho_mean = rho_at.reshape(len(self.stacks), self.k, self.n_r).mean(axis=1)
        p_mean = p_at.reshape(len(self.stacks), self.k, self.n_r).mean(axis=1)
        n = [len(s.radius_mpc) for s in self.stacks]
        return ([rho_mean[i, :k] * _MSUN_KPC3_PER_MSUN_MPC3 for i, k in enumerate(n)],
                [p_mean[i, :k] for i, k in enumerate(n)])

    def residuals(self, model: GasModel) -> np.ndarray:
        """log10(mock / real) of density and pressure at every fitted radius of every stack, of
        Y(<R200c) (times :data:`Y_WEIGHT`) of every stack, and of each feedback response of Y
        (times :data:`RESPONSE_WEIGHT`)."""
        rho, p = self.predict(model)
        out = []
        log_y = np.array([np.log10(np.nansum(w * pm)) for w, pm in zip(self._y_weight, p,
                                                                       strict=True)])
        for keep, (log_rho, log_p), rm, pm in zip(self._fit, self._log_real, rho, p, strict=True):
            out.append(np.log10(rm[keep]) - log_rho)
            out.append(np.log10(pm[keep]) - log_p)
        out.append(Y_WEIGHT * (log_y - self._log_y_real))
        if len(self._pairs):
            lo, hi = self._pairs.T
            out.append(RESPONSE_WEIGHT * ((log_y[hi] - log_y[lo])
                                          - (self._log_y_real[hi] - self._log_y_real[lo])))
        res = np.concatenate(out)
        return np.where(np.isfinite(res), res, 3.0)


#: bounds of the fitted numbers that have physical limits (others are free).
_BOUNDS = {
    "retention_mass": (-6.0, 6.0), "outer_slope": (1.0, 8.0), "inner_slope": (0.0, 1.5),
    "log10_xc": (-3.0, 0.5), "retention_logit": (-8.0, 8.0), "temperature_tilt": (-1.0, 1.0),
}


#: weak Gaussian priors (mean, sigma) on the fitted numbers: they keep directions the stacks do not
#: constrain (e.g. the outer slope of the least massive haloes) near physical values. Each enters
#: the least squares as (value - mean) / sigma x PRIOR_WEIGHT [dex-equivalent].
PRIORS = {
    "retention_mass": (1.2, 1.5), "log10_xc": (-0.7, 0.5), "xc_mass": (0.0, 0.5),
    "retention_mass2": (0.0, 1.0), "xc_mass2": (0.0, 0.5), "outer_slope_mass2": (0.0, 1.0),
    "outer_slope": (3.0, 1.0), "outer_slope_mass": (0.0, 1.0), "inner_slope": (0.5, 0.5),
    "retention_response": (0.0, 3.0), "retention_response_mass": (0.0, 2.0),
    "retention_response_mass2": (0.0, 2.0), "eta_response_mass": (0.0, 0.5),
    "retention_response_redshift": (0.0, 3.0),
    "xc_redshift": (0.0, 1.0), "retention_redshift": (0.0, 2.0),
    "temperature_tilt": (0.0, 0.5), "temperature_tilt_mass": (0.0, 0.5),
    "outer_slope_redshift": (0.0, 1.0), "eta_redshift": (0.0, 1.0),
    "xc_response": (0.0, 1.0), "outer_slope_response": (0.0, 1.0), "eta_response": (0.0, 0.5),
    "log10_eta": (0.0, 0.5), "eta_mass": (0.0, 0.5),
}
PRIOR_WEIGHT = 0.5


def fit_gas_model(
    stacks: list[ReferenceStack], start: GasModel, halos_per_stack: int = 24, seed: int = 0,
    max_nfev: int = 60, verbose: int = 0,
) -> tuple[GasModel, dict]:
    """Least-squares fit of ``start``'s free numbers to ``stacks``; returns the model and a
    summary of the fit (cost, evaluations, residual quantiles)."""
    from scipy.optimize import least_squares

    predictor = StackPredictor(stacks, halos_per_stack, seed)
    names = []
    for name in start.__dataclass_fields__:
        if name in FREE_FIELDS:
            names.extend([name] * (4 if isinstance(getattr(start, name), tuple) else 1))
    lo = np.array([_BOUNDS.get(n, (-np.inf, np.inf))[0] for n in names])
    hi = np.array([_BOUNDS.get(n, (-np.inf, np.inf))[1] for n in names])
    x0 = np.clip(start.to_vector(), lo + 1e-6, hi - 1e-6)

    prior_mean = np.array([PRIORS.get(n, (0.0, np.inf))[0] for n in names])
    prior_sigma = np.array([PRIORS.get(n, (0.0, np.inf))[1] for n in names])

    def fun(vector):
        prior = PRIOR_WEIGHT * (vector - prior_mean) / prior_sigma
        return np.concatenate([predictor.residuals(start.from_vector(vector)), prior])

    result = least_squares(fun, x0, bounds=(lo, hi), loss="soft_l1", f_scale=0.1,
                           diff_step=1e-3, max_nfev=max_nfev, x_scale=1.0, verbose=verbose)
    model = start.from_vector(result.x)
    res = np.abs(predictor.residuals(model))
    summary = {
        "cost": float(result.cost), "nfev": int(result.nfev), "status": int(result.status),
        "n_residuals": int(len(res)), "median_abs_dex": float(np.median(res)),
        "p90_abs_dex": float(np.quantile(res, 0.9)),
    }
    return model, summary


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def calibrate(
    root: str | Path, out: str | Path, suites=REFERENCE_SUITES, snapshots=CALIBRATION_SNAPSHOTS,
    halos_per_stack: int = 16, seed: int = 0, max_nfev: int = 60, mass_bins=MASS_BINS,
) -> dict:
    """Fit every reference suite and write the calibration file ``out`` (JSON, atomically); the
    fit starts from the shipped calibration."""
    root = Path(root)
    models, fits = {}, {}
    for suite in suites:
        stacks = load_reference(root, suite, snapshots, mass_bins=mass_bins)
        try:
            start = gas_model(suite)
        except (ValueError, KeyError, FileNotFoundError):
            start = GasModel(suite=suite)
        log.info("%s: fitting %d stacks", suite, len(stacks))
        model, fits[suite] = fit_gas_model(stacks, start, halos_per_stack, seed, max_nfev)
        models[suite] = {k: v for k, v in model.as_dict().items() if k != "suite"}
        log.info("%s: %s", suite, fits[suite])
    record = {
        "models": models,
        "provenance": {
            "reference": "CAMELS 1P stacked gas profiles (emu_CAMELS, Moser et al. 2022)",
            "simulations_csv_sha256": (_sha256(root / "simulations.csv")
                                       if (root / "simulations.csv").exists()
                                       else "none: an emu_CAMELS clone and the legacy 1P grid"),
            "suites": list(suites), "snapshots": [int(s) for s in snapshots],
            "fit_range_r200c": list(FIT_RANGE_R200C), "halos_per_stack": halos_per_stack,
            "seed": seed, "max_nfev": max_nfev, "mass_bins": list(mass_bins), "fits": fits,
            "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            **provenance("calibrate_mock", {"snapshots": list(snapshots)}),
        },
    }
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    return record


def mismatch_table(root: str | Path, suites=REFERENCE_SUITES, halos_per_stack: int = 64,
                   seed: int = 1, models: dict[str, GasModel] | None = None) -> list[dict]:
    """Per suite, simulation and mass bin at z = 0: median |log10 mock/real| of density and
    pressure over 0.1-1 R200c, and Y(<R200c) of mock and real."""
    rows = []
    for suite in suites:
        stacks = load_reference(root, suite, (33,))
        model = (models or {}).get(suite) or gas_model(suite)
        rho, p = StackPredictor(stacks, halos_per_stack, seed).predict(model)
        for s, rm, pm in zip(stacks, rho, p, strict=True):
            keep = s.fit_mask()
            rows.append({
                "suite": suite, "sim": s.sim, "varied": s.varied,
                "value": s.feedback.get(s.varied, 1.0), "mass_bin": s.mass_bin,
                "dex_density": float(np.median(np.abs(np.log10(rm[keep] / s.density[keep])))),
                "dex_pressure": float(np.median(np.abs(np.log10(pm[keep] / s.pressure[keep])))),
                "y_mock_mpc2": s.compton_y_mpc2(pm), "y_real_mpc2": s.compton_y_mpc2(),
                "n_halos": s.n_halos,
            })
    return rows


def calibration_summary(rows: list[dict]) -> dict:
    """The issue's targets from :func:`mismatch_table` rows: the median |dex| at the fiducial
    model (density and pressure separately, every mass bin) and, per suite and feedback
    parameter, Y[A max] / Y[A min] in the response bin, mock over real."""
    fid = [r for r in rows if r["sim"] == FIDUCIAL_SIM]
    out: dict[str, Any] = {"fiducial": {}, "responses": []}
    for suite in sorted({r["suite"] for r in rows}):
        sel = [r for r in fid if r["suite"] == suite]
        out["fiducial"][suite] = {
            "density": float(np.median([r["dex_density"] for r in sel])),
            "pressure": float(np.median([r["dex_pressure"] for r in sel])),
        }
        for param in FEEDBACK_PARAMS:
            for mass_bin in MASS_BINS:
                sel = [r for r in rows if r["suite"] == suite and r["varied"] == param
                       and r["mass_bin"] == mass_bin]
                if len(sel) < 2:
                    continue
                lo = min(sel, key=lambda r: r["value"])
                hi = max(sel, key=lambda r: r["value"])
                real = hi["y_real_mpc2"] / lo["y_real_mpc2"]
                mock = hi["y_mock_mpc2"] / lo["y_mock_mpc2"]
                factor = max(mock / real, real / mock)
                # the same ratio from a straight line of log Y against log A through every
                # simulation varying the parameter: less sensitive to one noisy stack
                log_a = np.log10([r["value"] for r in sel])
                span = log_a.max() - log_a.min()
                trend = {k: 10 ** (np.polyfit(log_a, np.log10([r[k] for r in sel]), 1)[0] * span)
                         for k in ("y_real_mpc2", "y_mock_mpc2")}
                out["responses"].append({
                    "suite": suite, "param": param, "mass_bin": mass_bin, "a_min": lo["value"],
                    "a_max": hi["value"], "real_ratio": real, "mock_ratio": mock,
                    "factor": factor, "target": mass_bin == RESPONSE_BIN,
                    "real_trend_ratio": trend["y_real_mpc2"],
                    "mock_trend_ratio": trend["y_mock_mpc2"],
                })
    out["median_dex"] = max(max(v.values()) for v in out["fiducial"].values())
    out["worst_response_factor"] = max(r["factor"] for r in out["responses"] if r["target"])
    return out


#: where the mock reads its calibration (package data of ``pipeline.mock``)
PACKAGE_CALIBRATION = (Path(__file__).resolve().parents[1] / "pipeline" / "mock" / "data"
                       / "gas_calibration.json")


def main(argv: list[str] | None = None) -> int:
    """Fit the mock's gas model to the CAMELS 1P stacks and write the calibration file."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True,
                        help="the CAMELS 1P stacks: an emu_CAMELS clone (or a folder with "
                             "simulations.csv, snapshots.csv and one folder per suite)")
    parser.add_argument("--out", default=str(PACKAGE_CALIBRATION))
    parser.add_argument("--max-nfev", type=int, default=60)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    record = calibrate(args.reference, args.out, max_nfev=args.max_nfev)
    for suite, fit in record["provenance"]["fits"].items():
        log.info("%s: median |dex| %.3f over %d residuals", suite, fit["median_abs_dex"],
                 fit["n_residuals"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
