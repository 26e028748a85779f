"""Which choice rule picks a closed form that holds on a code it did not see? Measured on the
Pareto front a study's SR stage wrote, against its held-out samples.

Every rule chooses, as the pipeline's paired rule does (the simplest equation whose loss on the
choice's held-out data is within ``sr.choice_z`` standard errors, clustered by simulation, of the
best, :func:`pipeline.discovery.sr.transfer.weighted_choice`), among the front equations it
allows:

  all            every equation (the rule before conditioning)
  conditioned    the choosable ones (sr.conditioning: no undetermined constant, no cancelling
                 terms; the pipeline's rule)
  monotonic      conditioned, and each feature's partial derivative keeps one sign over >= 99%
                 of the training haloes
  invariant      conditioned, and the residuals on the choice's held-out haloes depend on the
                 simulation parameters no more than the least such equation's (R^2 of a linear
                 fit on the parameters, within 0.02 of the lowest)
  worst-half     conditioned, and the worst loss over the parameter halves (constants refitted
                 on the simulations below a parameter's median, scored above, and back, for
                 each parameter), relative to the constant model's, within 5% of the lowest
  linear         the linear model (sr.linear_candidate) alone

Reductions are 1 - std(residual) / std(self-similar residual) on each held-out sample, all
masses (the evaluate stage's scatter, without its intervals); the black box is a forest on the
same features (300 trees, min leaf 5), for comparison.

    python bench/choice_rules.py studies/camels_lh_tng.yaml M_from_Y [--slope fixed]

(after the study has run: it reads results/<study>/halos.h5 and its SR table). Last line:
``choice_rules: <rule>=<reduction on each held-out sample> ...``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.columns import PARAMETER_COLUMNS  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.discovery.dataset import (  # noqa: E402
    Target,
    design_matrix,
    rows_of_samples,
    simulation_ids,
)
from pipeline.discovery.relations import blackbox_relation, discovered_relation  # noqa: E402
from pipeline.discovery.sr.constants import refit_constants  # noqa: E402
from pipeline.discovery.sr.expressions import to_callable  # noqa: E402
from pipeline.discovery.sr.transfer import extremes_split, weighted_choice  # noqa: E402
from pipeline.io.equations import parse_equation  # noqa: E402
from pipeline.io.tables import read_table  # noqa: E402

RULES = ("all", "conditioned", "monotonic", "invariant", "worst-half", "linear")


def _monotonic(expr: sp.Expr, names: list[str], x: np.ndarray) -> bool:
    for name in names:
        g = to_callable(sp.diff(expr, sp.Symbol(name)), names)(x)
        g = g[np.isfinite(g) & (np.abs(g) > 0)]
        if len(g) and min(np.mean(g > 0), np.mean(g < 0)) > 0.01:
            return False
    return True


def _worst_half(expr: sp.Expr, names: list[str], x: np.ndarray, y: np.ndarray,
                params: np.ndarray) -> float:
    ratios = []
    for j in range(params.shape[1]):
        v = params[:, j]
        if len(np.unique(v)) < 3:
            continue
        low = v <= np.median(v)
        loss = base = 0.0
        for tr, te in ((low, ~low), (~low, low)):
            fitted = refit_constants(expr, names, x[tr], y[tr]).expr
            loss += float(np.mean((to_callable(fitted, names)(x[te]) - y[te]) ** 2))
            base += float(np.mean((y[te] - np.mean(y[tr])) ** 2))
        ratios.append(loss / base)
    return max(ratios) if ratios else np.nan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study")
    parser.add_argument("target")
    parser.add_argument("--slope", default="fixed", choices=("fixed", "free"))
    args = parser.parse_args(argv)
    config = load_config(args.study)
    res = Path("results") / config["study"]
    halos = read_table(res / "halos.h5")
    sr = read_table(res / "sr" / f"{args.target}.{args.slope}.ecsv")
    entry = next(t for t in config["targets"] if t["name"] == args.target)
    target = Target.from_config(entry)
    names = [str(n) for n in sr.meta["features"]]
    train = rows_of_samples(halos, config["train"])
    x, y, used = design_matrix(train, names, target)
    sims = simulation_ids(train)[used]
    params = np.column_stack([np.asarray(train[c], dtype=float) for c in PARAMETER_COLUMNS
                              if c in train.colnames])[used]
    if len(config["train"]) > 1:
        raise SystemExit("choice_rules.py measures single-code studies (the extremes split)")
    idx_tr, idx_val, _ = extremes_split(sims, params, config["sr"]["extremes_fraction"])
    exprs = [parse_equation(str(e), names) for e in sr["expression"]]
    sq = np.array([(to_callable(e, names)(x[idx_val]) - y[idx_val]) ** 2 for e in exprs])
    sq = np.nan_to_num(sq, nan=np.inf)
    weights = np.full(len(idx_val), 1.0 / len(idx_val))
    refits = [refit_constants(e, names, x, y).expr for e in exprs]
    choosable = np.asarray(sr["choosable"], dtype=bool)
    monotonic = np.array([_monotonic(e, names, x) for e in refits])
    trend = []
    design = np.column_stack([np.ones(len(idx_val)), params[idx_val]])
    for e in exprs:
        r = to_callable(e, names)(x[idx_val]) - y[idx_val]
        coef, *_ = np.linalg.lstsq(design, r, rcond=None)
        trend.append(1.0 - np.var(r - design @ coef) / np.var(r))
    trend = np.array(trend)
    worst = np.array([_worst_half(e, names, x, y, params) for e in exprs])
    linear = np.asarray(sr["seed"]) == -2
    filters = {
        "all": np.ones(len(sr), dtype=bool),
        "conditioned": choosable,
        "monotonic": choosable & monotonic,
        "invariant": choosable & (trend <= np.min(trend[choosable]) + 0.02),
        "worst-half": choosable & (worst <= 1.05 * np.nanmin(np.where(choosable, worst, np.nan))),
        "linear": linear,
    }
    complexity = np.asarray(sr["complexity"], dtype=float)
    z = config["sr"]["choice_z"]

    def held_out(expr: sp.Expr) -> list[float]:
        relation = discovered_relation(target, expr, names)
        out = []
        for sample in config["holdout"]:
            rows = rows_of_samples(halos, [sample])
            base = target.residual(rows) - np.mean(target.residual(train))
            resid = relation.predict(rows) - np.asarray(rows[target.y], dtype=float)
            ok = np.isfinite(resid)
            out.append(1.0 - np.std(resid[ok]) / np.std(base[ok]))
        return out

    print(f"{'size':>4} {'choosable':>9} {'monotonic':>9} {'trend R2':>8} {'worst half':>10}  "
          + " ".join(f"{s:>10}" for s in config["holdout"]) + "  equation")
    for i, e in enumerate(refits):
        red = held_out(e)
        print(f"{int(complexity[i]):>4} {str(choosable[i]):>9} {str(monotonic[i]):>9} "
              f"{trend[i]:>8.2f} {worst[i]:>10.3f}  " + " ".join(f"{100 * r:>9.0f}%" for r in red)
              + f"  {str(e)[:70]}")
    box = blackbox_relation(train, target, names)
    box_red = []
    for sample in config["holdout"]:
        rows = rows_of_samples(halos, [sample])
        base = target.residual(rows)
        box_red.append(1.0 - np.std(box.predict(rows) - np.asarray(rows[target.y], dtype=float))
                       / np.std(base))
    summary = []
    for rule in RULES:
        allowed = filters[rule]
        if not allowed.any():
            summary.append(f"{rule}=none")
            continue
        chosen, _, _ = weighted_choice(complexity, sq, weights, z, np.inf,
                                       clusters=sims[idx_val], allowed=allowed)
        red = held_out(refits[chosen])
        print(f"rule {rule:<12} chooses size {int(complexity[chosen]):>2}: "
              + ", ".join(f"{s} {100 * r:.0f}%" for s, r in zip(config["holdout"], red, strict=True)))
        summary.append(f"{rule}=" + "/".join(f"{100 * r:.0f}%" for r in red))
    print("black box (same features): " + ", ".join(
        f"{s} {100 * r:.0f}%" for s, r in zip(config["holdout"], box_red, strict=True)))
    print("choice_rules: " + " ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
