"""One seeded run of the configured SR engine, and what stopped it: the same equations on any
machine.

The search budget is ``sr.max_evaluations`` and ``sr.generations``, both deterministic for a
seed. Four things made a study's equations depend on the machine or the run; each was measured
and removed:

* the wall-time cap ``sr.time_budget_s`` (then 60 s) stopped runs on a busy machine: the CAMELS
  LH study gave SIMBA 1P -33% on one run and -12% on another, with two different equations. It
  is now a safety net (default 1800 s): a run it stops is recorded in the SR table
  (``engine_runs``: generations and ``stopped_by`` per run; ``time_cap_hit``; the evaluations
  in the log),
  logged as a warning and said in the report. No shipped study and no test's search hits it:
  every run of every shipped study stops on its evaluations;
* pyoperon on two or more threads counts its evaluations in whatever order the threads finish,
  so a run near its budget stops at a machine-dependent point (one seed, five runs: 36189 to
  36214 evaluations, and a different front; on one thread 36196 every time). Each run is
  single-threaded; the seeds and search spaces run in parallel instead
  (:func:`pipeline.discovery.sr.search.discover`);
* scipy's Levenberg-Marquardt (MINPACK, scipy 1.17.1) returned different constants for the same
  fit called twice (315 or 322 evaluations, constants apart in the third digit, on a degenerate
  equation; an analytic Jacobian did not help): constants are refitted by the trust-region
  solver, which repeats exactly (:mod:`pipeline.discovery.sr.constants`);
* compiled expressions were cached by sympy equality, which ignores a number's precision, so
  which of two equal expressions was compiled first changed later results: they are cached by
  ``srepr`` (:func:`pipeline.discovery.sr.expressions.lambdified`).

Measured: the CAMELS LH study's SR stage run beside three CPU-bound processes on two cores (384 s
instead of about 60) wrote byte-identical SR tables. ``tests/unit/test_conditioning.py`` checks
that the cap at 5 s and at 3600 s gives the identical table and runs, and that a run the cap
stops is recorded; ``tests/workflow/test_workflow.py`` that two runs of the tiny study from
scratch give byte-identical files.
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
        """The run as the SR table's metadata stores it: neither the wall time nor the evaluation
        count, which are not reproducible to the unit (two runs of a CAMELS study counted 275188
        and 275198 evaluations for the same seed and the same front; the log has them)."""
        return {"space": space, "seed": seed, "generations": self.generations,
                "stopped_by": self.stopped_by}


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
    log.info("symbolic regression seed %d: %d generations, %d evaluations, %.1f s, stopped by %s",
             seed, generations, evaluations, seconds, run.stopped_by)
    if run.stopped_by == "time cap":
        log.warning("symbolic regression seed %d stopped on sr.time_budget_s = %d s after %d "
                    "generations and %d evaluations (budget %d, %d): this result depends on the "
                    "machine's speed and load; raise sr.time_budget_s or lower sr.max_evaluations",
                    seed, options.time_budget_s, generations, evaluations, options.max_evaluations,
                    options.generations)
    return run
