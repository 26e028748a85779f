"""Relations a study compares, behind one interface: predict log10 of the target's y per halo.

Every relation is fitted on the training samples only and then applied, unchanged, to every sample:

``baseline``
    the self-similar relation y = slope x + b, b the mean residual of the training haloes;
``discovered``
    y = slope x + f(features), f the equation symbolic regression chose (constants as refitted
    on the training haloes);
``blackbox``
    y = slope x + g(features), g a random forest on the same features as the discovered
    relation, trained on the same haloes: what these features can give without a closed form;
``published``
    (mass-from-Y targets with c_gas) log10 M = slope log10 Y + log10(1 - A c_gas) + b, the form of
    Wadekar et al. (2023, PNAS 120, e2202074120), A and b fitted on the training haloes;
``alternative``
    the equation symbolic regression chose under the other slope constraint (``sr.keep_slope``:
    the correction free to use the relation's x, or x kept to its self-similar slope), evaluated
    beside the discovered one so that the two can be compared on held-out data;
``floor``
    (mock only) the out-of-fold prediction from the latent halo properties the mock drew
    (:mod:`pipeline.discovery.noise_floor`): the scatter no relation of observables can remove.

Evaluation (:mod:`pipeline.discovery.evaluate`) only ever sees :class:`Relation` objects, so every
metric, interval and figure is computed the same way for each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp
from astropy.table import Table

from ..errors import DataError
from ..io.equations import parse_equation
from .dataset import Target, baseline_intercept
from .forests import forest_predict
from .sr.expressions import to_callable

__all__ = ["Relation", "baseline_relation", "discovered_relation", "blackbox_relation",
           "published_relation", "floor_relation", "published_form_applies",
           "published_correction", "fit_published_form", "PUBLISHED_FORM"]


@dataclass(frozen=True)
class Relation:
    """A fitted relation: ``predict(table)`` gives log10 of the predicted y per row (NaN or inf
    where it cannot predict). ``features``: the columns it reads besides the target's x (for the
    extrapolation check); ``description``: one line for tables and the report."""

    name: str
    description: str
    predict: Callable[[Table], np.ndarray]
    features: tuple[str, ...] = ()
    fitted: dict | None = None


def _columns(table: Table, names) -> np.ndarray:
    missing = [c for c in names if c not in table.colnames]
    if missing:
        raise DataError(f"halo table lacks column(s) {missing} needed by a relation")
    if not names:
        return np.empty((len(table), 0))
    return np.column_stack([np.asarray(table[c], dtype=float) for c in names])


def baseline_relation(train: Table, target: Target) -> Relation:
    """The self-similar relation with its intercept fitted on ``train``."""
    b = baseline_intercept(train, target)

    def predict(table: Table) -> np.ndarray:
        return target.slope * np.asarray(table[target.x], dtype=float) + b

    return Relation("baseline", f"self-similar: {target.y} = {target.slope:g} {target.x} + b",
                    predict, (target.x,), {"intercept": b})


def discovered_relation(target: Target, expression: str | sp.Expr, features: list[str],
                        where: str = "") -> Relation:
    """The symbolic-regression relation y = slope x + f(features).

    ``expression`` is text (an SR table's or a relation file's, parsed as data by
    :func:`pipeline.io.equations.parse_equation`: ``where`` names its file in any error) or a
    sympy expression. The relation reads only the features ``f`` uses (in the order of
    ``features``), so a table needs no other column and the extrapolation check looks only at
    columns that move the prediction."""
    expr = expression if isinstance(expression, sp.Basic) else parse_equation(expression, features,
                                                                              where)
    used = [n for n in features if sp.Symbol(n) in expr.free_symbols]
    f = to_callable(expr, used)

    def predict(table: Table) -> np.ndarray:
        x = _columns(table, used)
        with np.errstate(all="ignore"):
            return target.slope * np.asarray(table[target.x], dtype=float) + f(x)

    return Relation("discovered", f"{target.y} = {target.slope:g} {target.x} + f, f = {expression}",
                    predict, tuple(dict.fromkeys([target.x, *used])))


def blackbox_relation(train: Table, target: Target, features: list[str], seed: int = 0,
                      threads: int = 1, n_estimators: int | None = None,
                      min_samples_leaf: int | None = None) -> Relation:
    """A random forest g on ``features`` for the residual y - slope x of the training haloes
    (rows with a non-finite value are left out of the fit). ``n_estimators``,
    ``min_samples_leaf``: None takes ``evaluate.blackbox_n_estimators`` and
    ``evaluate.blackbox_min_samples_leaf`` of the schema."""
    from ..defaults import section_defaults

    defaults = section_defaults("evaluate")
    n_estimators = defaults["blackbox_n_estimators"] if n_estimators is None else n_estimators
    min_samples_leaf = (defaults["blackbox_min_samples_leaf"] if min_samples_leaf is None
                        else min_samples_leaf)
    from sklearn.ensemble import RandomForestRegressor

    x = _columns(train, features)
    y = target.residual(train)
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
    if ok.sum() < 20:
        raise DataError(f"black box: only {int(ok.sum())} training haloes with finite {features}")
    forest = RandomForestRegressor(n_estimators=n_estimators, min_samples_leaf=min_samples_leaf,
                                   random_state=seed, n_jobs=threads).fit(x[ok], y[ok])

    def predict(table: Table) -> np.ndarray:
        xt = _columns(table, features)
        out = np.full(len(table), np.nan)
        finite = np.isfinite(xt).all(axis=1)
        if finite.any():
            out[finite] = forest_predict(forest, xt[finite], threads)
        return target.slope * np.asarray(table[target.x], dtype=float) + out

    return Relation("blackbox", f"random forest on {', '.join(features)} ({n_estimators} trees, "
                    f"min_samples_leaf {min_samples_leaf})", predict,
                    tuple(dict.fromkeys([target.x, *features])),
                    {"n_train": int(ok.sum()), "seed": seed})


#: The published correction (Wadekar et al. 2023, PNAS 120, e2202074120): M ∝ Y^{3/5} (1 - A c_gas),
#: i.e. log10 M = slope log10 Y + log10(1 - A c_gas) + b, with A and b fitted on the training samples.
PUBLISHED_FORM = "log10 M = 0.6 log10 Y + log10(1 - A c_gas) + b (Wadekar et al. 2023)"


def published_form_applies(table: Table, target: Target) -> bool:
    """The published form is a mass-from-Y relation using c_gas."""
    return (target.y.startswith("log10_M") and target.x.startswith("log10_Y")
            and "c_gas" in table.colnames)


def published_correction(c_gas: np.ndarray, a: float, floor: float | None = None) -> np.ndarray:
    """log10(1 - A c_gas) [dex]; NaN where 1 - A c_gas <= 0, or that clipped at ``floor`` (so
    that a fit can move through such values)."""
    factor = 1.0 - a * np.asarray(c_gas, dtype=float)
    if floor is not None:
        factor = np.maximum(factor, floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(factor > 0, np.log10(np.where(factor > 0, factor, 1.0)), np.nan)


def fit_published_form(table: Table, target: Target) -> tuple[float, float]:
    """(A, b) of :data:`PUBLISHED_FORM` by least squares on ``table`` (the training samples)."""
    from scipy.optimize import least_squares

    r = target.residual(table)
    c = np.asarray(table["c_gas"], dtype=float)
    ok = np.isfinite(r) & np.isfinite(c)
    if ok.sum() < 3:
        raise DataError("published form: fewer than 3 haloes with finite c_gas and residual")
    r, c = r[ok], c[ok]

    def resid(p):
        return published_correction(c, p[0], floor=1e-6) + p[1] - r

    fit = least_squares(resid, [0.1, float(np.mean(r))])
    return float(fit.x[0]), float(fit.x[1])


def published_relation(train: Table, target: Target) -> Relation | None:
    """The published form fitted on ``train``, or None where it does not apply."""
    if not published_form_applies(train, target):
        return None
    a, b = fit_published_form(train, target)

    def predict(table: Table) -> np.ndarray:
        return (target.slope * np.asarray(table[target.x], dtype=float)
                + published_correction(table["c_gas"], a) + b)

    return Relation("published", PUBLISHED_FORM, predict, (target.x, "c_gas"), {"A": a, "b": b})


def floor_relation(target: Target, column: str = "floor_resid") -> Relation:
    """The mock's noise floor as a relation: the true y plus the floor's out-of-fold residual,
    which the caller puts in ``column`` of the halo table
    (:func:`pipeline.discovery.noise_floor.noise_floor_residuals`)."""

    def predict(table: Table) -> np.ndarray:
        return np.asarray(table[target.y], dtype=float) + np.asarray(table[column], dtype=float)

    return Relation("floor", "intrinsic noise floor of the mock (latent halo properties)", predict)
