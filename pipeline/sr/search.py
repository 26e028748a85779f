"""Symbolic-regression search: several seeded runs, merged Pareto front, documented choice.

Model-choice rule (as PySR's 'best', but on validation data): order the merged Pareto front by
complexity; score each equation by -d ln(validation MSE) / d complexity relative to the previous
one; among equations whose validation MSE is within ``loss_tolerance`` x the lowest, choose the one
with the highest score. This prefers the simplest equation that buys a real drop in held-out loss.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp
from astropy.table import Table
from sklearn.model_selection import train_test_split

from ..errors import DataError
from ..provenance import provenance
from .constants import refit_constants
from .expressions import node_count, parse_expression, to_callable, to_latex

__all__ = ["SROptions", "discover", "choose_equation", "fit_engine"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SROptions:
    backend: str = "operon"
    max_length: int = 20
    generations: int = 200
    population_size: int = 500
    max_evaluations: int = 300000
    optimizer_iterations: int = 10
    allowed_symbols: str = "add,sub,mul,div,constant,variable,log,exp,sqrt"
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    validation_fraction: float = 0.3
    loss_tolerance: float = 1.5
    threads: int = 1
    time_budget_s: int = 60


def fit_engine(x: np.ndarray, y: np.ndarray, options: SROptions, seed: int) -> list[str]:
    """Candidate expressions (over x0..x{k-1}) of one run of the configured engine."""
    if options.backend == "operon":
        from .operon_backend import fit_operon

        return fit_operon(x, y, options, seed)
    if options.backend == "pysr":
        from .pysr_backend import fit_pysr

        return fit_pysr(x, y, options, seed)
    raise ValueError(f"sr.backend must be 'operon' or 'pysr', got {options.backend!r}")


def _pareto_mask(complexity: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Non-dominated points: no other point is at most as complex and strictly better."""
    keep = np.ones(len(loss), dtype=bool)
    for i in range(len(loss)):
        dominated = (complexity <= complexity[i]) & (loss < loss[i])
        dominated |= (complexity < complexity[i]) & (loss <= loss[i])
        keep[i] = not dominated.any()
    return keep


def choose_equation(complexity: np.ndarray, loss_val: np.ndarray, tolerance: float) -> tuple[int, np.ndarray]:
    """Index of the chosen equation on a front sorted by complexity, and the scores.

    See the module docstring for the rule.
    """
    order_ok = np.all(np.diff(complexity) >= 0)
    if not order_ok:
        raise ValueError("front must be sorted by complexity")
    log_loss = np.log(np.maximum(loss_val, 1e-300))
    scores = np.zeros(len(loss_val))
    scores[1:] = -np.diff(log_loss) / np.maximum(np.diff(complexity), 1)
    eligible = np.isfinite(loss_val) & (loss_val <= tolerance * np.nanmin(loss_val))
    candidates = np.flatnonzero(eligible)
    best = candidates[np.argmax(scores[candidates])]
    return int(best), scores


def discover(x: np.ndarray, y: np.ndarray, names: list[str], options: SROptions) -> Table:
    """Search expressions y ~ f(x) and return the merged Pareto front as a table.

    Columns: complexity (tree nodes), loss_train, loss_val (MSE), r2_val, score, seed,
    expression (sympy string, full precision), latex, chosen. ``meta['chosen']`` repeats the
    chosen expression.
    """
    if len(y) < 20:
        raise DataError(f"symbolic regression: only {len(y)} haloes; at least 20 are needed")
    x_tr, x_val, y_tr, y_val = train_test_split(
        x, y, test_size=options.validation_fraction, random_state=options.seeds[0]
    )
    engine_names = [f"x{i}" for i in range(x.shape[1])]
    # the constant model anchors the front, so that the first real equation gets a score
    mean = float(np.mean(y_tr))
    seen: dict[str, dict] = {
        "constant": {"expr": sp.Float(mean), "complexity": 1, "seed": -1,
                     "loss_train": float(np.mean((y_tr - mean) ** 2)),
                     "loss_val": float(np.mean((y_val - mean) ** 2))}
    }
    for seed in options.seeds:
        for text in fit_engine(x_tr, y_tr, options, seed):
            try:
                expr = parse_expression(text, names, engine_names)
            except ValueError as exc:
                log.warning("skipping unparsable candidate: %s", exc)
                continue
            key = sp.srepr(expr)
            if key in seen:
                continue
            fn = to_callable(expr, names)
            pred_tr, pred_val = fn(x_tr), fn(x_val)
            if not (np.isfinite(pred_tr).all() and np.isfinite(pred_val).all()):
                continue
            seen[key] = {
                "expr": expr,
                "complexity": node_count(expr),
                "loss_train": float(np.mean((pred_tr - y_tr) ** 2)),
                "loss_val": float(np.mean((pred_val - y_val) ** 2)),
                "seed": seed,
            }
    if not seen:
        raise DataError("symbolic regression returned no finite candidate expression")
    cands = sorted(seen.values(), key=lambda c: (c["complexity"], c["loss_train"]))
    comp = np.array([c["complexity"] for c in cands], dtype=float)
    loss_tr = np.array([c["loss_train"] for c in cands])
    front = [c for c, k in zip(cands, _pareto_mask(comp, loss_tr), strict=True) if k]
    comp = np.array([c["complexity"] for c in front], dtype=float)
    loss_val = np.array([c["loss_val"] for c in front])
    chosen, scores = choose_equation(comp, loss_val, options.loss_tolerance)
    var_val = float(np.var(y_val))
    table = Table(
        {
            "complexity": comp.astype(int),
            "loss_train": [c["loss_train"] for c in front],
            "loss_val": loss_val,
            "r2_val": 1.0 - loss_val / var_val,
            "score": scores,
            "seed": [c["seed"] for c in front],
            "expression": [str(c["expr"]) for c in front],
            "latex": [to_latex(c["expr"]) for c in front],
        }
    )
    table["chosen"] = np.arange(len(front)) == chosen
    # the engine tuned the constants on the training split; the final ones use every halo
    refit = refit_constants(front[chosen]["expr"], list(names), x, y)
    table.meta.update(
        {
            "features": list(names),
            "chosen": str(refit.expr),
            "chosen_latex": to_latex(refit.expr),
            "chosen_engine": str(front[chosen]["expr"]),
            # constants typeset c_0, c_1, ... in the order of meta['constants']
            "chosen_template_latex": re.sub(r"\\mathrm\{\\_c(\d+)\}", r"c_{\1}",
                                            to_latex(refit.template)),
            "constants": [
                {"name": f"c_{i}", "value": float(v), "error": float(e)}
                for i, (v, e) in enumerate(zip(refit.values, refit.errors, strict=True))
            ],
            "constants_rule": "least-squares refit on all haloes (train + validation); 1-sigma "
                              "errors from the Jacobian scaled by the residual variance",
            "n_train": len(y_tr),
            "n_val": len(y_val),
            "target_var_val": var_val,
            "n_candidates": len(cands),
            "choice_rule": (
                f"highest score -dln(MSE_val)/dcomplexity among equations with MSE_val <= "
                f"{options.loss_tolerance} x min"
            ),
            "provenance": provenance("sr", asdict(options), {"sr.seeds": list(options.seeds)}),
        }
    )
    log.info("chosen equation: %s (val R^2 %.3f)", front[chosen]["expr"], table["r2_val"][chosen])
    return table
