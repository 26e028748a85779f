"""pyoperon engine: candidate expressions of one seeded run (its Pareto front)."""

from __future__ import annotations

import numpy as np

__all__ = ["fit_operon"]


def fit_operon(x: np.ndarray, y: np.ndarray, options, seed: int) -> tuple[list[str], int, int]:
    """Run pyoperon's NSGA-II symbolic regression (objectives R^2 and length): the expressions of
    its Pareto front as strings over variables ``x0 .. x{k-1}``, the generations run and the
    evaluations used.

    Constants are tuned by Levenberg-Marquardt (``optimizer_iterations`` >= 1; pyoperon fits none
    at its default of 0). The run stops on ``generations`` / ``max_evaluations``, which is
    reproducible for a seed; ``time_budget_s`` is only a safety cap.
    """
    from pyoperon.sklearn import SymbolicRegressor

    reg = SymbolicRegressor(
        allowed_symbols=options.allowed_symbols,
        objectives=["r2", "length"],
        optimizer_iterations=options.optimizer_iterations,
        max_length=options.max_length,
        generations=options.generations,
        population_size=options.population_size,
        max_evaluations=options.max_evaluations,
        max_time=options.time_budget_s,
        n_threads=options.threads,
        random_state=seed,
    )
    reg.fit(np.ascontiguousarray(x), np.ascontiguousarray(y))
    names = [f"x{i}" for i in range(x.shape[1])]
    stats = getattr(reg, "stats_", {})
    # the evaluation budget counts residual and Jacobian evaluations (constant tuning included)
    evaluations = int(stats.get("residual_evaluations", 0)) + int(stats.get("jacobian_evaluations", 0))
    return ([reg.get_model_string(p["tree"], 8, names) for p in reg.pareto_front_],
            int(stats.get("generations", 0)), evaluations)
