"""The mock's gas: how much a halo keeps, how it is spread, and how hot it is.

Per halo of mass M200c at redshift z in a simulation with feedback amplitudes A_i
(A_SN1, A_AGN1, A_SN2, A_AGN2; l_i = log10 A_i, m = log10(M200c / Msun) - 12.5):

* baryons inside R200c: f_b M f_ret, with the retained fraction a logistic function of mass,
  logit f_ret = retention_logit + retention_mass m + retention_mass2 m^2 + retention_redshift lz
  + sum_i (retention_response_i + retention_response_mass_i m + retention_response_mass2_i m^2
  + retention_response_redshift_i lz) l_i + scatter
  (the form f_b / (1 + (M_c / M)^beta) written in its well-conditioned, linear parameters);
  gas is what the stars have not taken;
* gas density: a generalised NFW shape in x = r / R200c,
  rho(x) ~ (x / x_c)^-inner_slope (1 + x / x_c)^-(outer_slope - inner_slope), normalised to the gas
  mass inside R200c; log10 x_c and outer_slope are quadratic in m and linear in lz = log10(1 + z)
  and l_i (plus scatter for x_c). Every mass trend uses m clipped to the calibrated range
  (10^11-10^13.5 Msun), so clusters are not extrapolated from groups;
* thermal pressure: hydrostatic equilibrium of that gas in the NFW potential of the halo (P = 0 at
  5 R200c), less a non-thermal fraction f_nt(x) = f_nt(R200c) x^0.8 (capped at 0.6), times a
  temperature factor eta x^tilt (log10 eta linear in m, lz and l_i, with mass-dependent responses
  eta_response_i + eta_response_mass_i m; tilt linear in m,
  x clipped to 0.01-2): they stand for what hydrostatic equilibrium misses (feedback heating,
  cooling gas in the cores of small haloes, bulk flows).

The numbers are fitted per suite to the real CAMELS 1P stacks (``tools/mock_calibration.py``) and
shipped as package data (``data/gas_calibration.json``, with provenance); the Astrid-like suite
is derived from the IllustrisTNG fit by documented changes (``ASTRID_FROM_TNG``). All functions
are vectorised over haloes; masses in Msun, radii in physical Mpc, sigma^2 = P / rho in (km/s)^2.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ..io.camels_facts import FEEDBACK_PARAMETERS
from ..physics.nfw import G_MPC_KM2_S2_MSUN, nfw_mu

__all__ = [
    "GasModel", "FEEDBACK_PARAMS", "FREE_FIELDS", "ASTRID_FROM_TNG", "gas_model",
    "calibration_record", "calibration_provenance", "model_from_dict", "halo_gas_state",
    "HaloGas", "gas_profiles", "X_GRID",
    "sample_gas_radii", "interpolate_per_halo", "pressure_unit_factor",
]

FEEDBACK_PARAMS = FEEDBACK_PARAMETERS
_PIVOT_LOG10_M = 12.5
#: log10 M200c range of the reference stacks; linear mass trends are frozen outside it.
CALIBRATED_LOG10_M = (11.0, 13.5)
#: x = r / R200c grid of the profile tables (log-spaced; inside x[0] the shape's power law).
X_GRID = np.geomspace(1e-4, 5.0, 160)
# R200c (x = 1) in the grid: index of the node below and the weight of the node above, in ln x
_I_R200 = int(np.searchsorted(X_GRID, 1.0)) - 1
_W_R200 = float(-np.log(X_GRID[_I_R200]) / np.log(X_GRID[_I_R200 + 1] / X_GRID[_I_R200]))

_ZERO4 = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class GasModel:
    """Gas physics of one mock suite (see the module docstring for the formulas)."""

    suite: str
    retention_logit: float = 0.0
    retention_mass: float = 1.2
    retention_mass2: float = 0.0
    retention_redshift: float = 0.0
    retention_response: tuple[float, ...] = _ZERO4
    retention_response_mass: tuple[float, ...] = _ZERO4
    retention_response_mass2: tuple[float, ...] = _ZERO4
    retention_response_redshift: tuple[float, ...] = _ZERO4
    log10_xc: float = -0.8
    xc_mass: float = 0.0
    xc_mass2: float = 0.0
    xc_redshift: float = 0.0
    xc_response: tuple[float, ...] = _ZERO4
    outer_slope: float = 3.0
    outer_slope_mass: float = 0.0
    outer_slope_mass2: float = 0.0
    outer_slope_redshift: float = 0.0
    outer_slope_response: tuple[float, ...] = _ZERO4
    inner_slope: float = 0.3
    log10_eta: float = 0.0
    eta_mass: float = 0.0
    eta_redshift: float = 0.0
    eta_response: tuple[float, ...] = _ZERO4
    eta_response_mass: tuple[float, ...] = _ZERO4
    temperature_tilt: float = 0.0
    temperature_tilt_mass: float = 0.0
    #: scatter: logit of the retained fraction, log10 x_c [dex], log10 eta [dex]; f_nt(R200c) mean
    retention_scatter: float = 0.4
    xc_scatter_dex: float = 0.15
    eta_scatter_dex: float = 0.05
    nonthermal_fraction_r200: float = 0.15

    def to_vector(self) -> np.ndarray:
        """The fitted numbers (:data:`FREE_FIELDS`) as one flat vector."""
        out: list[float] = []
        for name in FREE_FIELDS:
            value = getattr(self, name)
            out.extend(value if isinstance(value, tuple) else [value])
        return np.asarray(out, dtype=float)

    def from_vector(self, vector: np.ndarray) -> GasModel:
        """A copy with the fitted numbers taken from ``vector`` (order of :meth:`to_vector`)."""
        values: dict[str, Any] = {}
        i = 0
        for name in FREE_FIELDS:
            if isinstance(getattr(self, name), tuple):
                values[name] = tuple(float(v) for v in vector[i:i + 4])
                i += 4
            else:
                values[name] = float(vector[i])
                i += 1
        return replace(self, **values)

    def as_dict(self) -> dict:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


#: the numbers the calibration fits (scatter and f_nt are fixed priors).
FREE_FIELDS = tuple(
    f.name for f in fields(GasModel)
    if f.name not in {"suite", "retention_scatter", "xc_scatter_dex", "eta_scatter_dex",
                      "nonthermal_fraction_r200"}
)

#: How the Astrid-like suite departs from the IllustrisTNG calibration (no Astrid stacks in the
#: reference data). Astrid's AGN feedback is thermal and kinetic with a weaker kinetic mode at
#: group scale and its groups keep more gas (Ni et al. 2022): retained fraction raised by 0.5 in
#: logit, half of TNG's retention response to the wind energy A_SN1, AGN responses x1.5, gas
#: slightly more concentrated (x_c lower by 0.1 dex) and 10% cooler.
ASTRID_FROM_TNG: dict[str, Any] = {
    "retention_logit": 0.5,
    "retention_response_scale": (0.5, 1.5, 1.0, 1.5),
    "log10_xc": -0.1,
    "log10_eta": -0.046,
}


def _package_calibration() -> dict:
    text = resources.files("pipeline.mock").joinpath("data/gas_calibration.json").read_text()
    return json.loads(text)


def calibration_record() -> dict:
    """The shipped calibration file (models per suite and provenance)."""
    return _package_calibration()


def calibration_provenance() -> dict:
    """Where the shipped calibration came from (reference data, fit settings, versions)."""
    prov = _package_calibration().get("provenance", {})
    keys = ("reference", "simulations_csv_sha256", "created_utc", "git_commit", "fits")
    return {k: prov[k] for k in keys if k in prov}


def _astrid_from(tng: GasModel) -> GasModel:
    scale = ASTRID_FROM_TNG["retention_response_scale"]
    return replace(
        tng, suite="Astrid",
        retention_logit=tng.retention_logit + ASTRID_FROM_TNG["retention_logit"],
        retention_response=tuple(
            r * s for r, s in zip(tng.retention_response, scale, strict=True)),
        retention_response_mass=tuple(
            r * s for r, s in zip(tng.retention_response_mass, scale, strict=True)),
        log10_xc=tng.log10_xc + ASTRID_FROM_TNG["log10_xc"],
        log10_eta=tng.log10_eta + ASTRID_FROM_TNG["log10_eta"],
    )


def model_from_dict(suite: str, values: dict) -> GasModel:
    """A :class:`GasModel` from a calibration-file entry (unknown keys are an error)."""
    known = {f.name for f in fields(GasModel)} - {"suite"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"gas calibration of {suite}: unknown key(s) {unknown}")
    kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return GasModel(suite=suite, **kw)


@cache
def gas_model(suite: str) -> GasModel:
    """The calibrated gas model of mock suite ``suite`` (IllustrisTNG, SIMBA or Astrid)."""
    models = _package_calibration()["models"]
    if suite == "Astrid":
        return _astrid_from(model_from_dict("IllustrisTNG", models["IllustrisTNG"]))
    if suite not in models:
        raise ValueError(f"no gas calibration for mock suite {suite!r}; calibrated: "
                         f"{sorted(models)} (+ Astrid, derived from IllustrisTNG)")
    return model_from_dict(suite, models[suite])


@dataclass
class HaloGas:
    """Per-halo gas parameters (arrays of equal length)."""

    retained_fraction: np.ndarray  # baryons inside R200c / (f_b M200c)
    log10_xc: np.ndarray
    outer_slope: np.ndarray
    log10_eta: np.ndarray
    nonthermal_fraction_r200: np.ndarray
    temperature_tilt: np.ndarray | None = None  # T multiplied by x^tilt (x in 0.01-2)

    def subset(self, index) -> HaloGas:
        """The haloes ``index`` (mask or indices)."""
        picked: dict[str, Any] = {f.name: None if getattr(self, f.name) is None
                                  else np.asarray(getattr(self, f.name))[index] for f in fields(self)}
        return HaloGas(**picked)

    @staticmethod
    def concatenate(parts: list[HaloGas]) -> HaloGas:
        """All haloes of ``parts``, in order."""
        joined: dict[str, Any] = {f.name: None if getattr(parts[0], f.name) is None
                                  else np.concatenate([getattr(p, f.name) for p in parts])
                                  for f in fields(HaloGas)}
        return HaloGas(**joined)


def halo_gas_state(
    model: GasModel, log10_m200c_msun: np.ndarray, redshift: float, feedback: dict[str, float],
    retention_offset: np.ndarray, shape_offset: np.ndarray, eta_offset: np.ndarray,
    nonthermal_offset: np.ndarray,
) -> HaloGas:
    """Gas parameters of haloes of log10 M200c [Msun] at ``redshift``; the offsets are standard
    normal deviates (per halo) of log10 M_c, log10 x_c, log10 eta and ln f_nt."""
    log_m = np.asarray(log10_m200c_msun, dtype=float)
    # mass trends are calibrated on 10^11-10^13.1 Msun: held at the edges of the range
    m = np.clip(log_m, *CALIBRATED_LOG10_M) - _PIVOT_LOG10_M
    lz = np.log10(1.0 + redshift)
    la = np.log10([feedback[p] for p in FEEDBACK_PARAMS])
    response = (np.asarray(model.retention_response) + np.outer(m, model.retention_response_mass)
                + np.outer(m**2, model.retention_response_mass2)
                + lz * np.asarray(model.retention_response_redshift))
    logit = (model.retention_logit + model.retention_mass * m + model.retention_mass2 * m**2
             + model.retention_redshift * lz + response @ la
             - model.retention_scatter * retention_offset)
    f_ret = 1.0 / (1.0 + np.exp(-logit))
    log_xc = (model.log10_xc + model.xc_mass * m + model.xc_mass2 * m**2 + model.xc_redshift * lz
              + float(np.dot(model.xc_response, la)) + model.xc_scatter_dex * shape_offset)
    beta = (model.outer_slope + model.outer_slope_mass * m + model.outer_slope_mass2 * m**2
            + model.outer_slope_redshift * lz
            + float(np.dot(model.outer_slope_response, la)))
    beta = np.clip(beta, model.inner_slope + 0.5, 8.0) * np.ones_like(m)
    eta_response = np.asarray(model.eta_response) + np.outer(m, model.eta_response_mass)
    log_eta = (model.log10_eta + model.eta_mass * m + model.eta_redshift * lz
               + eta_response @ la + model.eta_scatter_dex * eta_offset)
    f_nt = np.clip(model.nonthermal_fraction_r200 * np.exp(0.3 * nonthermal_offset), 0.0, 0.5)
    tilt = (model.temperature_tilt + model.temperature_tilt_mass * m) * np.ones_like(m)
    return HaloGas(f_ret, np.clip(log_xc, -3.0, 1.0), beta, log_eta, f_nt, np.clip(tilt, -1, 1))


def _shape(x: np.ndarray, xc: np.ndarray, inner: float, outer: np.ndarray) -> np.ndarray:
    s = x / xc
    return np.exp(-inner * np.log(s) - (outer - inner) * np.log1p(s))


def gas_profiles(
    m200c_msun: np.ndarray, r200c_mpc: np.ndarray, c200c: np.ndarray, mgas_msun: np.ndarray,
    gas: HaloGas, inner_slope: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Density [Msun/Mpc^3], thermal sigma^2 = P_th / rho [(km/s)^2] and enclosed-gas fraction
    M(<x) / M(<R200c) of every halo on :data:`X_GRID` (arrays of shape (n_halo, len(X_GRID))).

    The density integrates to ``mgas_msun`` inside R200c; beyond R200c it continues with the same
    shape. The thermal pressure is eta (1 - f_nt(x)) times the hydrostatic total pressure.
    """
    x = X_GRID[None, :]
    xc = 10.0 ** np.asarray(gas.log10_xc)[:, None]
    outer = np.asarray(gas.outer_slope)[:, None]
    shape = _shape(x, xc, inner_slope, outer)
    # enclosed shape mass in units of 4 pi R200c^3: power-law core below x[0], trapezoid above
    integrand = shape * x**3
    core = shape[:, :1] * X_GRID[0] ** 3 / (3.0 - inner_slope)
    steps = 0.5 * (integrand[:, 1:] + integrand[:, :-1]) * np.diff(np.log(X_GRID))[None, :]
    enclosed = core + np.concatenate([np.zeros((len(xc), 1)), np.cumsum(steps, axis=1)], axis=1)
    at_r200 = (1.0 - _W_R200) * enclosed[:, _I_R200] + _W_R200 * enclosed[:, _I_R200 + 1]
    r200 = np.asarray(r200c_mpc, dtype=float)[:, None]
    norm = np.asarray(mgas_msun, dtype=float)[:, None] / (4 * np.pi * r200**3 * at_r200[:, None])
    rho = norm * shape
    c = np.asarray(c200c, dtype=float)[:, None]
    m_total = np.asarray(m200c_msun, dtype=float)[:, None] * nfw_mu(c * x) / nfw_mu(c)
    # hydrostatic: P(x) = int_x^x_out rho G M(<x') / (R200c x'^2) dx' (in ln x: times x')
    force = shape * G_MPC_KM2_S2_MSUN * m_total / (r200 * x)
    seg = 0.5 * (force[:, 1:] + force[:, :-1]) * np.diff(np.log(X_GRID))[None, :]
    p_shape = np.concatenate([np.cumsum(seg[:, ::-1], axis=1)[:, ::-1],
                              np.zeros((len(xc), 1))], axis=1)
    f_nt = np.minimum(np.asarray(gas.nonthermal_fraction_r200)[:, None] * x**0.8, 0.6)
    eta = 10.0 ** np.asarray(gas.log10_eta)[:, None]
    if gas.temperature_tilt is not None:
        tilt = np.asarray(gas.temperature_tilt)[:, None]
        eta = eta * np.clip(x, 0.01, 2.0) ** tilt
    sigma2 = eta * (1.0 - f_nt) * p_shape / shape
    return rho, sigma2, enclosed / at_r200[:, None]


def interpolate_per_halo(
    halo_index: np.ndarray, x: np.ndarray, table: np.ndarray, log_values: bool = True
) -> np.ndarray:
    """table[halo_index, :] interpolated (in ln x, and in ln value if ``log_values``) at ``x``,
    for many haloes in one vectorised call (flattened tables with per-halo offsets)."""
    n_halo, n_grid = table.shape
    lx = np.log(np.clip(x, X_GRID[0], X_GRID[-1]))
    span = np.log(X_GRID[-1]) - np.log(X_GRID[0]) + 1.0
    grid = (np.log(X_GRID)[None, :] + span * np.arange(n_halo)[:, None]).ravel()
    values = np.log(np.maximum(table, 1e-300)) if log_values else table
    out = np.interp(lx + span * halo_index, grid, values.ravel())
    return np.exp(out) if log_values else out


def sample_gas_radii(
    rng: np.random.Generator, halo_index: np.ndarray, enclosed_fraction: np.ndarray, x_max: float
) -> np.ndarray:
    """Radii x = r / R200c of gas particles of the haloes ``halo_index`` (inverse CDF of each
    halo's tabulated enclosed fraction, truncated at ``x_max``)."""
    n_halo = enclosed_fraction.shape[0]
    log_x = np.log(X_GRID)
    at_max = interpolate_per_halo(np.arange(n_halo), np.full(n_halo, x_max), enclosed_fraction,
                                  log_values=False)
    target = rng.uniform(0.0, 1.0, len(halo_index)) * at_max[halo_index]
    # per-halo offsets keep the flattened CDFs increasing from one halo to the next
    offset = np.concatenate([[0.0], np.cumsum(enclosed_fraction[:, -1] + 1.0)[:-1]])
    cdf = (enclosed_fraction + offset[:, None]).ravel()
    lx = np.interp(target + offset[halo_index], cdf, np.tile(log_x, n_halo))
    return np.minimum(np.exp(lx), x_max)


def pressure_unit_factor() -> float:
    """Msun/Mpc^3 x (km/s)^2 -> Msun/kpc/s^2 (the unit of the CAMELS pressure stacks)."""
    from astropy import units as u

    return float((u.Msun / u.Mpc**3 * (u.km / u.s) ** 2).to(u.Msun / u.kpc / u.s**2))
