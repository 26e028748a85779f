"""One seeded run of the configured SR engine, and what stopped it.

The search budget is counted in evaluations (``sr.max_evaluations``) and generations
(``sr.generations``): both are deterministic for a seed, so the same study gives the same
equations on an idle and on a busy machine. ``sr.time_budget_s`` is only a safety net against a
run that would never end; a run it stops is machine-dependent, so that is recorded in the SR
table's metadata (``engine_runs``, ``time_cap_hit``), logged as a warning and said in the report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["EngineRun", "fit_engine", "STOPPED_BY"]

log = logging.getLogger(__name__)

#: what can stop a run, in the order checked
STOPPED_BY = ("time cap", "generations", "evaluations")


@dataclass(frozen=True)
class EngineRun:
    """Candidate expressions (over x0..x{k-1}) of one run, the generations and evaluations it
    used (operon: residual and Jacobian evaluations, as its budget counts them; PySR: 0), and
    what stopped it (:data:`STOPPED_BY`)."""

    expressions: tuple[str, ...]
    generations: int
    evaluations: int
    stopped_by: str

    def record(self, space: str, seed: int) -> dict:
        """The run as the SR table's metadata stores it (no wall time: it is not reproducible)."""
        return {"space": space, "seed": seed, "generations": self.generations,
                "evaluations": self.evaluations, "stopped_by": self.stopped_by}


def stopped_by(generations: int, evaluations: int, seconds: float, options) -> str:
    """Which criterion ended a run that used ``generations`` and ``evaluations`` in ``seconds``:
    the time cap when the run lasted about as long as it, else the generations when all were
    run, else the evaluation budget (the engines know no other; operon stops before a generation
    whose evaluations would exceed the budget, so the count it reports sits below it)."""
    if seconds >= 0.9 * options.time_budget_s:
        return "time cap"
    if generations >= options.generations:
        return "generations"
    return "evaluations"


def fit_engine(x: np.ndarray, y: np.ndarray, options, seed: int) -> EngineRun:
    """One run of ``options.backend`` (operon or pysr) on ``x``, ``y`` with ``seed``; a run the
    time cap stopped is logged as a warning."""
    t0 = time.perf_counter()
    if options.backend == "operon":
        from .operon_backend import fit_operon

        expressions, generations, evaluations = fit_operon(x, y, options, seed)
    elif options.backend == "pysr":
        from .pysr_backend import fit_pysr

        expressions, generations, evaluations = fit_pysr(x, y, options, seed)
    else:
        raise ValueError(f"sr.backend must be 'operon' or 'pysr', got {options.backend!r}")
    seconds = time.perf_counter() - t0
    run = EngineRun(tuple(expressions), int(generations), int(evaluations),
                    stopped_by(generations, evaluations, seconds, options))
    if run.stopped_by == "time cap":
        log.warning("symbolic regression seed %d stopped on sr.time_budget_s = %d s after %d "
                    "generations and %d evaluations (budget %d, %d): this result depends on the "
                    "machine's speed and load; raise sr.time_budget_s or lower sr.max_evaluations",
                    seed, options.time_budget_s, generations, evaluations, options.max_evaluations,
                    options.generations)
    return run
