"""pyoperon engine: candidate expressions of one seeded run (its Pareto front)."""

from __future__ import annotations

import numpy as np

__all__ = ["fit_operon"]


def fit_operon(x: np.ndarray, y: np.ndarray, options, seed: int) -> list[str]:
    """Run pyoperon's NSGA-II symbolic regression (objectives R^2 and length) and return the
    expressions of its Pareto front as strings over variables ``x0 .. x{k-1}``.

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
    return [reg.get_model_string(p["tree"], 8, names) for p in reg.pareto_front_]
