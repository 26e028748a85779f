"""Symbolic-regression search: several seeded runs in one or two target spaces, a merged Pareto
front, and a documented, validation-based choice.

Target spaces. The study's targets are log10 residuals already (``linear``, the default). Raw
quantities carry multiplicative (log-normal) scatter, so with ``target_space: auto`` and a strictly
positive target every seed is run twice: on ``y`` and on
``ln y`` (where power laws and products become sums, which the engines find far more easily);
a log-space candidate ``g`` enters the pool as ``exp(g)``. All candidates are then judged as
models of ``y`` under one noise model, chosen by maximum likelihood on the validation split:
additive Gaussian (loss = MSE of ``y``) or log-normal (loss = MSE of ``ln y``; its likelihood of
``y`` carries the Jacobian ``1/y``, so the two are comparable). ``linear`` or ``log`` fix it.

Validation split. A random ``validation_fraction`` of the haloes, or with ``validation_groups``
(a halo-table column such as ``sim``) of whole groups: haloes of one simulation share its
feedback parameters and, across snapshots, their progenitors, so a random split lets an equation
that fits one simulation's peculiarities look validated.

Choice rule ``paired`` (default): order the merged Pareto front (complexity = tree nodes of the
sympy expression in ``y``) by complexity; the best equation is the one of lowest validation loss;
choose the simplest equation whose validation loss exceeds the best one's by at most ``choice_z``
(default 2) standard errors of the paired per-halo difference of squared residuals, and by at
most a factor ``loss_tolerance``. This is the one-standard-error rule with a paired error: noise
common to both equations cancels, so a real (if small) misfit is not hidden by the noise level,
and an extra term that only fits noise is not taken; the factor guards (nearly) noiseless data.
With validation groups (``sr.validation_groups: sim``, and always with ``choice_data:
transfer``) the error is clustered by simulation: haloes of one simulation share its offsets.
Before the choice, every front equation's constants are snapped to simple rationals where the
data allow (:mod:`pipeline.discovery.sr.snapping`; the snapped forms join the pool, so complexity counts
structure, not the engine's way of writing it); the chosen one is refitted on every halo.
Rule ``score`` (as PySR's 'best', on validation data): among equations whose validation loss is
within ``loss_tolerance`` x the lowest, the one of highest -d ln(loss) / d complexity.

Choice data ``sr.choice_data``: ``split`` (above) or ``transfer``: with two or more training
samples every candidate is scored leaving one sample out (constants refitted on the others), with
one an extrapolation split holds out the simulations at the extremes of each varied parameter
(:mod:`pipeline.discovery.sr.transfer`). Domain safety (``sr.domain_check``): candidates with a
pole, a non-real region or a blow-up on the widened training domain are rejected before the
choice and listed in ``meta['rejected']`` (:mod:`pipeline.discovery.sr.domain`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp
from astropy.table import Table
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from ...defaults import SCHEMA, schema_defaults
from ...errors import DataError
from ...provenance import provenance
from .conditioning import Conditioning, conditioning, reparametrise, undetermined
from .constants import refit_constants
from .domain import domain_box, domain_points, domain_problem
from .engine import EngineRun, fit_engine
from .expressions import node_count, parse_expression, to_callable, to_latex
from .rewrites import readable_form
from .snapping import paired_excess_se, snap_constants
from .transfer import extremes_split, leave_one_sample_out, weighted_choice

__all__ = ["SROptions", "discover", "validation_split", "choose_equation", "choose_equation_paired",
           "fit_engine", "search_rows", "linear_model", "do_no_harm"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
@schema_defaults("sr")
class SROptions:
    backend: str = SCHEMA
    max_length: int = SCHEMA
    generations: int = SCHEMA
    population_size: int = SCHEMA
    max_evaluations: int = SCHEMA
    optimizer_iterations: int = SCHEMA
    allowed_symbols: str = SCHEMA
    seeds: list[int] = SCHEMA
    validation_fraction: float = SCHEMA
    validation_groups: str | None = SCHEMA
    target_space: str = SCHEMA
    choice_rule: str = SCHEMA
    choice_z: float = SCHEMA
    loss_tolerance: float = SCHEMA
    snap_constants: bool = SCHEMA
    snap_max_denominator: int = SCHEMA
    snap_n_sigma: float = SCHEMA
    readable_rewrites: bool = SCHEMA
    rewrite_tolerance: float = SCHEMA
    threads: int = SCHEMA
    time_budget_s: int = SCHEMA
    choice_data: str = SCHEMA
    transfer_aggregate: str = SCHEMA
    extremes_fraction: float = SCHEMA
    domain_check: bool = SCHEMA
    cluster_errors: bool = SCHEMA
    domain_margin: float = SCHEMA
    domain_blowup: float = SCHEMA
    domain_includes_holdout: bool = SCHEMA
    keep_slope: bool = SCHEMA
    compare_slope_constraint: bool = SCHEMA
    max_search_rows: int = SCHEMA
    linear_candidate: bool = SCHEMA
    conditioning: bool = SCHEMA
    max_cancellation: float = SCHEMA


#: fewest haloes the search fits on
MIN_SEARCH_ROWS = 20
TARGET_SPACES = ("auto", "linear", "log")
CHOICE_RULES = ("paired", "score")
CHOICE_DATA = ("split", "transfer")


def search_rows(n: int, max_rows: int, groups: np.ndarray | None = None) -> np.ndarray:
    """Indices of the rows the engine searches on: all ``n`` when ``n <= max_rows``, else a
    subsample of ``max_rows`` stratified by ``groups`` (each simulation keeps its share; seed 0,
    so reproducible). The engine's cost grows with the rows, its ability to find a form does
    not: past ~10^4 haloes more rows only slow each generation, so that a time-capped search
    at CAMELS LH size (10^5 haloes) would stop early. Candidates are then scored, snapped,
    chosen and refitted on every row."""
    if n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(0)
    if groups is None:
        return np.sort(rng.choice(n, size=max_rows, replace=False))
    labels, index = np.unique(groups, return_inverse=True)
    counts = np.bincount(index)
    quota = np.floor(counts * max_rows / n).astype(int)
    # the rows lost to rounding go to the largest remainders
    short = max_rows - quota.sum()
    quota[np.argsort(-(counts * max_rows / n - quota), kind="stable")[:short]] += 1
    picked = [rng.permutation(np.flatnonzero(index == g))[:quota[g]] for g in range(len(labels))]
    return np.sort(np.concatenate(picked))


def _engine_runs(x: np.ndarray, y: np.ndarray, spaces: list[str], options: SROptions,
                 ) -> dict[tuple[str, int], EngineRun]:
    """Every (search space, seed) run (:class:`~.engine.EngineRun`). Each operon run is
    single-threaded: on two or more threads pyoperon counts its evaluations in whatever order the
    threads finish, so a run near its budget stops at a machine-dependent point (measured: 36189
    to 36214 evaluations, and a different front, for one seed on 2 threads; 36196 every time on
    1). With ``options.threads`` > 1 the runs go in parallel instead, up to threads at a time
    (pyoperon releases the GIL while it searches): the results are those of the serial runs."""
    from dataclasses import replace

    jobs = [(space, seed) for space in spaces for seed in options.seeds]
    workers = min(options.threads, len(jobs)) if options.backend == "operon" else 1
    single = replace(options, threads=1) if options.backend == "operon" else options

    def run(job: tuple[str, int]) -> EngineRun:
        space, seed = job
        return fit_engine(x, np.log(y) if space == "log" else y, single, seed)

    if workers <= 1:
        return {job: run(job) for job in jobs}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


def _pareto_mask(complexity: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Non-dominated points: no other point is at most as complex and strictly better."""
    keep = np.ones(len(loss), dtype=bool)
    for i in range(len(loss)):
        dominated = (complexity <= complexity[i]) & (loss < loss[i])
        dominated |= (complexity < complexity[i]) & (loss <= loss[i])
        keep[i] = not dominated.any()
    return keep


def _score(complexity: np.ndarray, loss_val: np.ndarray) -> np.ndarray:
    """-d ln(loss) / d complexity relative to the previous equation of the front (0 for the first)."""
    log_loss = np.log(np.maximum(loss_val, 1e-300))
    scores = np.zeros(len(loss_val))
    scores[1:] = -np.diff(log_loss) / np.maximum(np.diff(complexity), 1)
    return scores


def _allowed(allowed: np.ndarray | None, n: int) -> np.ndarray:
    out = np.ones(n, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    if not out.any():
        raise ValueError("no equation of the front may be chosen")
    return out


def choose_equation(complexity: np.ndarray, loss_val: np.ndarray, tolerance: float,
                    allowed: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Rule ``score``: index of the chosen equation on a front sorted by complexity, and the
    scores (see the module docstring); only ``allowed`` equations (default all) count."""
    if not np.all(np.diff(complexity) >= 0):
        raise ValueError("front must be sorted by complexity")
    allowed = _allowed(allowed, len(loss_val))
    scores = _score(complexity, loss_val)
    eligible = allowed & np.isfinite(loss_val) & (
        loss_val <= tolerance * np.nanmin(np.where(allowed, loss_val, np.nan)))
    candidates = np.flatnonzero(eligible)
    return int(candidates[np.argmax(scores[candidates])]), scores


def choose_equation_paired(complexity: np.ndarray, sq_residuals_val: np.ndarray, z: float,
                           tolerance: float = np.inf, clusters: np.ndarray | None = None,
                           allowed: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Rule ``paired``: index of the simplest equation (front sorted by complexity) whose mean
    validation loss is within ``z`` paired standard errors of the best one's and at most
    ``tolerance`` x the best one's, and each equation's excess loss over the best in units of
    that error (0 for the best).

    ``sq_residuals_val`` is (n_equations, n_validation): squared residuals per halo. The ratio
    cap matters for (nearly) noiseless data, where a look-alike's squared errors can be so
    concentrated in one corner of the domain that their mean is within z errors of zero.
    ``clusters`` (each validation halo's simulation): the error is clustered by simulation, as
    in :func:`pipeline.discovery.sr.transfer.weighted_choice`.
    """
    if clusters is not None:
        n = sq_residuals_val.shape[1]
        return weighted_choice(complexity, sq_residuals_val, np.full(n, 1.0 / n), z, tolerance,
                               clusters=clusters, allowed=allowed)[::2]
    if not np.all(np.diff(complexity) >= 0):
        raise ValueError("front must be sorted by complexity")
    if z < 0:
        raise ValueError(f"sr.choice_z must be >= 0, got {z}")
    allowed = _allowed(allowed, len(complexity))
    loss = sq_residuals_val.mean(axis=1)
    best = int(np.nanargmin(np.where(allowed, loss, np.nan)))
    excess = paired_excess_se(sq_residuals_val, sq_residuals_val[best])
    excess[best] = 0.0
    # an absolute floor: at round-off level, ratios of losses mean nothing
    floor = 1e-12 * float(np.max(loss[np.isfinite(loss)]))
    eligible = allowed & (excess <= z) & (loss <= tolerance * loss[best] + floor)
    return int(np.flatnonzero(eligible)[0]), excess


def _search_spaces(y: np.ndarray, option: str) -> list[str]:
    if option not in TARGET_SPACES:
        raise ValueError(f"sr.target_space must be one of {TARGET_SPACES}, got {option!r}")
    positive = bool(np.all(y > 0))
    if option == "log" and not positive:
        raise DataError(f"sr.target_space is 'log' but the target has {int(np.sum(y <= 0))} values "
                        "<= 0; use 'linear' or 'auto'")
    if option == "linear" or (option == "auto" and not positive):
        return ["linear"]
    return ["log"] if option == "log" else ["linear", "log"]


@dataclass
class Candidate:
    """One equation of the search: its expression, size, where it came from (engine seed, -1 for
    the constant model; search space), its residuals on the training and validation haloes per
    noise-model space, the losses in the chosen space (set by :func:`_front`) and the snapping
    and rewriting steps that made it (:mod:`.snapping`, :mod:`.rewrites`)."""

    expr: sp.Expr
    complexity: int
    seed: int
    found_in: str
    res_tr: dict[str, np.ndarray]
    res_val: dict[str, np.ndarray]
    loss_train: float = float("nan")
    loss_val: float = float("nan")
    snapped: list = field(default_factory=list)
    rewritten: list = field(default_factory=list)
    conditioning: Conditioning | None = None
    problems: list = field(default_factory=list)


def _noise_model(cands: list[Candidate], y_val: np.ndarray, spaces: list[str]) -> tuple[str, dict]:
    """The noise model (search space) of highest validation likelihood of ``y``, with the mean
    negative log-likelihood per halo (constants dropped) of each space's best equation."""
    nll = {}
    for space in spaces:
        mse = min((float(np.mean(c.res_val[space] ** 2)) for c in cands
                   if np.isfinite(c.res_val[space]).all()), default=np.inf)
        jacobian = float(np.mean(np.log(y_val))) if space == "log" else 0.0
        nll[space] = 0.5 * np.log(max(mse, 1e-300)) + jacobian
    return min(nll, key=nll.__getitem__), nll


def _residuals(pred: np.ndarray, y: np.ndarray, spaces: list[str]) -> dict[str, np.ndarray]:
    out = {"linear": pred - y}
    if "log" in spaces:
        with np.errstate(all="ignore"):
            out["log"] = np.log(pred) - np.log(y)
    return out


def _finite_in(c: Candidate, space: str) -> bool:
    return bool(np.isfinite(c.res_tr[space]).all() and np.isfinite(c.res_val[space]).all())


def _front(cands: list[Candidate], space: str) -> list[Candidate]:
    """Pareto front of (complexity, training loss in ``space``), sorted by complexity; sets each
    candidate's loss_train / loss_val."""
    for c in cands:
        c.loss_train = float(np.mean(c.res_tr[space] ** 2))
        c.loss_val = float(np.mean(c.res_val[space] ** 2))
    cands = sorted(cands, key=lambda c: (c.complexity, c.loss_train))
    comp = np.array([c.complexity for c in cands], dtype=float)
    loss_tr = np.array([c.loss_train for c in cands])
    return [c for c, keep in zip(cands, _pareto_mask(comp, loss_tr), strict=True) if keep]


def _candidate(expr: sp.Expr, seed: int, space: str, names: list[str],
               train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
               spaces: list[str], options: SROptions, domain: tuple | None,
               rejected: list[dict]) -> Candidate | None:
    """``expr`` scored on the training and validation haloes; None where it is not finite there,
    or (``sr.domain_check``) unsafe on the ``domain`` (box, points), then listed in ``rejected``."""
    fn = to_callable(expr, names)
    pred_tr, pred_val = fn(train[0]), fn(val[0])
    if not (np.isfinite(pred_tr).all() and np.isfinite(pred_val).all()):
        return None
    if options.domain_check and domain is not None and expr.free_symbols:
        box, points = domain
        problem = domain_problem(expr, names, points, pred_tr, options.domain_blowup, box)
        if problem is not None:
            rejected.append({"expression": str(expr), "complexity": node_count(expr),
                             "reason": problem})
            return None
    return Candidate(expr, node_count(expr), seed, space, _residuals(pred_tr, train[1], spaces),
                     _residuals(pred_val, val[1], spaces))


def linear_model(x: np.ndarray, y: np.ndarray, names: list[str]) -> sp.Expr | None:
    """``c0 + c1 x1 + ... + ck xk`` over every feature, constants by least squares on ``x``,
    ``y``: the simplest well-conditioned correction in the search's features, offered beside the
    engine's equations (``sr.linear_candidate``) so that the choice always has one. None when
    the fit is degenerate (fewer rows than constants, a constant feature)."""
    design = np.column_stack([np.ones(len(y)), x])
    if len(y) <= design.shape[1] or np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return sp.Float(float(coef[0]), 15) + sum(
        (sp.Float(float(c), 15) * sp.Symbol(n) for c, n in zip(coef[1:], names, strict=True)),
        sp.Integer(0))


def _gather(candidate, x_tr: np.ndarray, y_tr: np.ndarray, search: np.ndarray,
            names: list[str], spaces: list[str], options: SROptions,
            ) -> tuple[dict[str, Candidate], list[dict]]:
    """The constant model(s), the linear model (``sr.linear_candidate``) and every distinct
    equation the engine runs on the ``search`` rows of the training split return, scored by
    ``candidate`` (keyed by their sympy structure; unscorable ones left out), and the runs'
    records (:meth:`~.engine.EngineRun.record`)."""
    x_search, y_search = x_tr[search], y_tr[search]
    # the constant model anchors the front, so that the first real equation gets a score
    seen = {"constant": candidate(sp.Float(float(np.mean(y_tr))), -1, "linear")}
    if "log" in spaces:  # the geometric mean is the constant model of ln y
        seen["log-constant"] = candidate(sp.Float(float(np.exp(np.mean(np.log(y_tr))))), -1, "log")
    if options.linear_candidate and x_tr.shape[1] and (linear := linear_model(x_tr, y_tr, names)) \
            is not None:
        seen["linear-model"] = candidate(linear, -2, "linear")
    if x_search.shape[1] == 0:
        log.warning("symbolic regression: no feature to search (the ranking selected none); "
                    "the relation is the constant model, i.e. the self-similar baseline")
    engine_names = [f"x{i}" for i in range(x_search.shape[1])]
    runs = _engine_runs(x_search, y_search, spaces if x_search.shape[1] else [], options)
    for space in spaces if x_search.shape[1] else ():
        for seed in options.seeds:
            for text in runs[(space, seed)].expressions:
                try:
                    expr = parse_expression(text, names, engine_names)
                except ValueError as exc:
                    log.warning("skipping unparsable candidate: %s", exc)
                    continue
                if space == "log":
                    expr = sp.exp(expr)  # sympy folds exp(a + b log x) into e^a x^b
                key = sp.srepr(expr)
                if key not in seen:
                    seen[key] = candidate(expr, seed, space)
    records = [run.record(space, seed) for (space, seed), run in runs.items()]
    return {k: c for k, c in seen.items() if c is not None}, records


def _readable(seen: dict[str, Candidate], front: list[Candidate], names: list[str],
              train: tuple[np.ndarray, np.ndarray], points: np.ndarray, log_space: bool,
              options: SROptions, candidate) -> dict[str, Candidate]:
    """``seen`` with each front equation that has a degenerate piece replaced by its readable
    equivalent on the domain ``points`` (:mod:`.rewrites`), constants refitted on ``train``."""
    out = dict(seen)
    key_of = {id(c): k for k, c in seen.items()}
    for c in front:
        expr, steps = readable_form(c.expr, list(names), points, options.rewrite_tolerance)
        if not steps:
            continue
        refit = refit_constants(expr, list(names), *train, log_space=log_space)
        new = candidate(refit.expr, c.seed, c.found_in)
        if new is None:
            continue
        new.snapped, new.rewritten = c.snapped, steps
        out.pop(key_of[id(c)], None)
        out.setdefault(sp.srepr(new.expr), new)
        log.info("readable form: %s -> %s (%s)", c.expr, new.expr,
                 ", ".join(step.rule for step in steps))
    return out


def _choose_by_transfer(front: list[Candidate], comp: np.ndarray, names: list[str], x: np.ndarray,
                        y: np.ndarray, labels: np.ndarray, groups: np.ndarray | None,
                        options: SROptions, log_space: bool, allowed: np.ndarray | None = None):
    """Leave one training sample out: (chosen index, loss per equation, excess in paired
    standard errors, scores, the rule in words, per-sample left-out losses); only ``allowed``
    equations (default all) are chosen or set the best loss."""
    sq_out = np.array([np.nan_to_num(leave_one_sample_out(c.expr, list(names), x, y, labels,
                                                          log_space) ** 2, nan=np.inf)
                       for c in front])
    counts = {s: int(np.sum(labels == s)) for s in np.unique(labels)}
    weights = np.array([1.0 / (len(counts) * counts[s]) for s in labels])
    chosen, loss_val, excess = weighted_choice(
        comp, sq_out, weights, options.choice_z, options.loss_tolerance, labels,
        worst=options.transfer_aggregate == "worst",
        clusters=groups if options.cluster_errors else None, allowed=allowed)
    per_sample = {s: [float(np.mean(row[labels == s])) for row in sq_out] for s in counts}
    by_sim = " (clustered by simulation)" if _clustered(groups, options) else ""
    rule = (f"simplest equation whose left-out loss ({options.transfer_aggregate} over the "
            f"left-out samples) is within {options.choice_z:g} paired standard errors{by_sim} and "
            f"{options.loss_tolerance:g} x of the lowest")
    return chosen, loss_val, excess, _score(comp, loss_val), rule, per_sample


def _choose_on_validation(front: list[Candidate], comp: np.ndarray, noise_model: str,
                          val_sims: np.ndarray | None, groups: np.ndarray | None,
                          options: SROptions, allowed: np.ndarray | None = None):
    """The choice on the validation split (``sr.choice_rule``), returned as
    :func:`_choose_by_transfer` returns it (no per-sample losses)."""
    loss_val = np.array([c.loss_val for c in front])
    sq_val = np.array([c.res_val[noise_model] ** 2 for c in front])
    scores = _score(comp, loss_val)
    chosen_paired, excess = choose_equation_paired(comp, sq_val, options.choice_z,
                                                   options.loss_tolerance, val_sims, allowed)
    if options.choice_rule == "paired":
        by_sim = " (clustered by simulation)" if _clustered(groups, options) else ""
        rule = (f"simplest equation whose validation loss is within {options.choice_z:g} paired "
                f"standard errors{by_sim} and {options.loss_tolerance:g} x of the lowest")
        return chosen_paired, loss_val, excess, scores, rule, {}
    chosen, _ = choose_equation(comp, loss_val, options.loss_tolerance, allowed)
    rule = (f"highest score -dln(MSE_val)/dcomplexity among equations with MSE_val <= "
            f"{options.loss_tolerance} x min")
    return chosen, loss_val, excess, scores, rule, {}


def do_no_harm(front: list[Candidate], chosen: int, loss_val: np.ndarray, data: str) -> dict:
    """Whether the chosen equation beats the constant model (the self-similar baseline: y =
    slope x + b) on the data the choice was made on (its held-out split or left-out samples):
    ``recommended`` False when it does not (or is that constant model), and the report then
    recommends the baseline instead of presenting a relation its own validation finds no better."""
    constant = min((i for i, c in enumerate(front) if c.seed == -1),
                   key=lambda i: front[i].complexity, default=None)
    if constant is None:
        return {"recommended": True, "rule": "no constant model on the front"}
    chosen_loss, base_loss = float(loss_val[chosen]), float(loss_val[constant])
    recommended = bool(chosen != constant and chosen_loss < base_loss)
    return {"recommended": recommended, "loss_chosen": chosen_loss, "loss_baseline": base_loss,
            "data": data,
            "rule": "the chosen equation is recommended when its loss on the data the choice was "
                    "made on is below the constant model's (the self-similar baseline); else the "
                    "baseline is"}


def _reparametrised(seen: dict[str, Candidate], front: list[Candidate], names: list[str],
                    train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
                    log_space: bool, options: SROptions, candidate,
                    noise_model: str) -> dict[str, Candidate]:
    """``seen`` plus, for each front equation with an undetermined constant on the training
    split, its reparametrised form (:func:`.conditioning.reparametrise`: degenerate constants
    fixed to simple numbers where the validation loss allows), as snapping adds its forms."""
    out = dict(seen)
    for c in front:
        fit = refit_constants(c.expr, list(names), *train, log_space=log_space)
        if not undetermined(fit).any():
            continue
        expr, steps = reparametrise(c.expr, list(names), *train, *val, log_space=log_space,
                                    z=options.choice_z)
        key = sp.srepr(expr)
        if steps and key not in out and (new := candidate(expr, c.seed, c.found_in)) is not None \
                and _finite_in(new, noise_model):
            new.snapped, new.rewritten = [*c.snapped, *steps], c.rewritten
            out[key] = new
            log.info("reparametrised: %s -> %s (%d constant(s) fixed)", c.expr, expr, len(steps))
    return out


def _condition(cands: list[Candidate], names: list[str], x: np.ndarray, y: np.ndarray,
               log_space: bool, options: SROptions) -> None:
    """Set each candidate's :class:`~.conditioning.Conditioning`, measured with its constants
    refitted on every halo (as the chosen equation's final constants are), and the reasons it may
    not be chosen (none with ``sr.conditioning: false``)."""
    for c in cands:
        fit = refit_constants(c.expr, list(names), x, y, log_space=log_space)
        c.conditioning = conditioning(fit, list(names), x)
        c.problems = c.conditioning.problems(options.max_cancellation) if options.conditioning \
            else []


def _merged_front(*fronts: list[Candidate]) -> list[Candidate]:
    """The candidates of every front, each once, sorted by complexity then training loss."""
    merged = {id(c): c for f in fronts for c in f}
    return sorted(merged.values(), key=lambda c: (c.complexity, c.loss_train))


def validation_split(n: int, options: SROptions,
                     groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation haloes: a random ``validation_fraction`` of the
    haloes, or, with ``groups`` (one label per halo, e.g. its simulation), of the groups, so
    that no group is on both sides. Seeded by the first SR seed."""
    if groups is None:
        return train_test_split(np.arange(n), test_size=options.validation_fraction,
                                random_state=options.seeds[0])
    labels = np.asarray(groups)
    if len(labels) != n:
        raise ValueError(f"sr.validation_groups: {len(labels)} group labels for {n} haloes")
    n_groups = len(np.unique(labels))
    if n_groups < 4:
        raise DataError(f"sr.validation_groups is {options.validation_groups!r} but the training "
                        f"haloes come from only {n_groups} group(s); at least 4 are needed to hold "
                        "some out (set sr.validation_groups: null for a split by halo)")
    splitter = GroupShuffleSplit(n_splits=1, test_size=options.validation_fraction,
                                 random_state=options.seeds[0])
    return next(splitter.split(np.zeros(n), groups=labels))


def _split_note(options: SROptions, groups: np.ndarray | None, idx_val: np.ndarray) -> str:
    if groups is None:
        return "by halo"
    labels = np.asarray(groups)
    return (f"by {options.validation_groups}: {len(np.unique(labels[idx_val]))} of "
            f"{len(np.unique(labels))} held out")


def _clustered(groups: np.ndarray | None, options: SROptions) -> bool:
    """Whether the choice's standard errors are clustered by simulation."""
    return groups is not None and options.cluster_errors


def _choice_split(n: int, options: SROptions, groups: np.ndarray | None,
                  samples: np.ndarray | None, sim_params: np.ndarray | None,
                  ) -> tuple[np.ndarray, np.ndarray, str, bool]:
    """(training indices, validation indices, a note, leave-one-sample-out?) for the choice."""
    if options.choice_data not in CHOICE_DATA:
        raise ValueError(f"sr.choice_data must be one of {CHOICE_DATA}, got {options.choice_data!r}")
    if options.choice_data == "transfer":
        labels = None if samples is None else np.asarray(samples).astype(str)
        if labels is not None and len(np.unique(labels)) >= 2:
            every = np.arange(n)
            names = ", ".join(np.unique(labels))
            return every, every, f"leave one sample out ({names}; {options.transfer_aggregate})", True
        if groups is None or sim_params is None:
            raise DataError("sr.choice_data: transfer with one training sample holds out the "
                            "simulations at the extremes of each varied parameter: it needs the "
                            "haloes' simulations and parameters (sr.validation_groups: sim)")
        idx_tr, idx_val, held = extremes_split(groups, sim_params, options.extremes_fraction)
        n_sims = len(np.unique(np.asarray(groups).astype(str)))
        rule = ("sr.choice_data: transfer with one training sample (the simulations at the "
                "extremes of each varied parameter are held out to choose the equation)")
        if len(idx_val) == 0:
            raise DataError(f"{rule}: no parameter takes 3 or more distinct values over the "
                            f"{n_sims} training simulations, so none lies at an extreme; train on "
                            "simulations whose parameters vary, on two samples (leave one sample "
                            "out), or set sr.choice_data: split")
        if len(idx_tr) < MIN_SEARCH_ROWS:
            raise DataError(f"{rule}: holding out the {len(held)} simulations at the extremes "
                            f"({', '.join(held[:6])}{', ...' if len(held) > 6 else ''}) leaves "
                            f"{len(idx_tr)} training haloes of {n_sims - len(held)} simulations, "
                            f"fewer than the {MIN_SEARCH_ROWS} the search needs: add training "
                            "simulations (this rule holds out up to half of them) or set "
                            "sr.choice_data: split")
        # the names go to the table's meta (validation_simulations), not into running text
        return idx_tr, idx_val, (f"extremes of the varied parameters: {len(held)} of "
                                 f"{len(np.unique(groups))} simulations held out"), False
    idx_tr, idx_val = validation_split(n, options, groups)
    return idx_tr, idx_val, _split_note(options, groups, idx_val), False


def discover(x: np.ndarray, y: np.ndarray, names: list[str], options: SROptions,
             groups: np.ndarray | None = None, samples: np.ndarray | None = None,
             sim_params: np.ndarray | None = None, domain_x: np.ndarray | None = None) -> Table:
    """Search expressions y ~ f(x) and return the merged Pareto front as a table.

    ``groups`` (one label per halo, e.g. its simulation; see ``sr.validation_groups``) makes the
    validation split hold out whole groups: the choice then rewards what carries over to unseen
    simulations, not what fits haloes whose neighbours (same simulation, adjacent snapshot) were
    trained on. ``samples`` (each halo's training sample) and ``sim_params`` (each halo's
    simulation parameters, (n, p)) serve ``sr.choice_data: transfer``. ``domain_x``: feature
    values whose box (widened) every candidate must be safe on, default ``x``.

    Columns: complexity (tree nodes), loss_train, loss_val (MSE in the chosen noise model's
    space: ``y`` or ``ln y``; left out of the fit with the transfer choice), r2_val (in that
    space), score, excess_se (validation loss above the best equation's, in paired standard
    errors), seed, found_in (search space), the conditioning measures and whether the equation
    is choosable (:mod:`.conditioning`), expression (sympy string, full precision), latex,
    chosen, and with leave-one-sample-out ``loss_out_<sample>`` per training sample.
    ``meta['chosen']`` repeats the chosen expression with its constants refitted on every halo;
    ``meta['noise_model']`` is ``linear`` or ``log``; ``meta['rejected']`` lists the candidates
    domain safety turned away, with the reason; ``meta['verdict']`` the do-no-harm verdict.
    """
    if len(y) < MIN_SEARCH_ROWS:
        raise DataError(f"symbolic regression: only {len(y)} haloes; at least {MIN_SEARCH_ROWS} "
                        "are needed")
    if options.choice_rule not in CHOICE_RULES:
        raise ValueError(f"sr.choice_rule must be one of {CHOICE_RULES}, got {options.choice_rule!r}")
    spaces = _search_spaces(np.asarray(y, dtype=float), options.target_space)
    idx_tr, idx_val, split_note, loso = _choice_split(len(y), options, groups, samples, sim_params)
    train, val = (x[idx_tr], y[idx_tr]), (x[idx_val], y[idx_val])
    box = domain_box(x if domain_x is None else domain_x, options.domain_margin) if x.shape[1] else None
    domain = (box, domain_points(*box)) if box is not None else None
    rejected: list[dict] = []

    def candidate(expr: sp.Expr, seed: int, space: str) -> Candidate | None:
        return _candidate(expr, seed, space, names, train, val, spaces, options, domain, rejected)

    search = search_rows(len(train[1]), options.max_search_rows,
                         None if groups is None else np.asarray(groups).astype(str)[idx_tr])
    seen, engine_runs = _gather(candidate, *train, search, names, spaces, options)
    noise_model, nll = _noise_model(list(seen.values()), val[1], spaces)
    log_space = noise_model == "log"
    seen = _rewritten(seen, noise_model, names, train, val, domain, options, candidate)
    finite = [c for c in seen.values() if _finite_in(c, noise_model)]
    _condition(finite, names, x, y, log_space, options)
    front, allowed, comp = _table_front(finite, noise_model)
    chosen, loss_val, excess, scores, rule, per_sample = (
        _choose_by_transfer(front, comp, names, x, y, np.asarray(samples).astype(str), groups,
                            options, log_space, allowed) if loso else
        _choose_on_validation(front, comp, noise_model, _validation_sims(groups, idx_val, options),
                              groups, options, allowed))
    val_target = y if loso else val[1]
    var_val = float(np.var(np.log(val_target) if log_space else val_target))
    table = _front_table(front, comp, loss_val, var_val, scores, excess, allowed, per_sample)
    table["chosen"] = np.arange(len(front)) == chosen
    # the constants were tuned on the training split; the final ones use every halo
    refit = refit_constants(front[chosen].expr, list(names), x, y, log_space=log_space)
    table.meta.update(_chosen_meta(refit, front[chosen], noise_model))
    table.meta.update(_rules_meta(options))
    table.meta.update({
        "features": list(names),
        "verdict": do_no_harm(front, chosen, loss_val, split_note),
        "engine_runs": engine_runs,
        "time_cap_hit": any(r["stopped_by"] == "time cap" for r in engine_runs),
        "search_spaces": spaces,
        "noise_model": noise_model,
        "noise_model_nll": {k: float(v) for k, v in nll.items()},
        **_split_meta(split_note, groups, idx_tr, idx_val, loso, len(search)),
        "choice_data": options.choice_data,
        "target_var_val": var_val,
        "n_candidates": len(seen),
        "choice_rule": rule,
        **_domain_meta(options, rejected),
        "provenance": provenance("sr", asdict(options), {"sr.seeds": list(options.seeds)}),
    })
    log.info("noise model %s (validation NLL per halo %s); %d candidates rejected on the domain; "
             "chosen equation: %s (val R^2 %.3f)", noise_model,
             {k: round(v, 4) for k, v in nll.items()}, len(rejected), front[chosen].expr,
             table["r2_val"][chosen])
    return table


def _rewritten(seen: dict[str, Candidate], noise_model: str, names: list[str], train, val,
               domain, options: SROptions, candidate) -> dict[str, Candidate]:
    """``seen`` with the enabled rewrites of its front added: snapped constants, readable
    forms (only with a domain to check them on) and reparametrised ill-conditioned ones."""
    log_space = noise_model == "log"
    if options.snap_constants:
        seen = _snapped(seen, _front_of(seen, noise_model), names, train, val, log_space, options,
                        candidate, noise_model)
    if options.readable_rewrites and domain is not None:
        seen = _readable(seen, _front_of(seen, noise_model), names, train, domain[1], log_space,
                         options, candidate)
    if options.conditioning:
        seen = _reparametrised(seen, _front_of(seen, noise_model), names, train, val, log_space,
                               options, candidate, noise_model)
    return seen


def _table_front(finite: list[Candidate], noise_model: str
                 ) -> tuple[list[Candidate], np.ndarray, np.ndarray]:
    """The table's equations: the front of every candidate merged with that of the choosable
    ones (an equation that is not choosable may dominate one that is), whether each may be
    chosen, and their complexities."""
    front = _merged_front(_front(finite, noise_model),
                          _front([c for c in finite if not c.problems], noise_model))
    allowed = np.array([not c.problems for c in front])
    return front, allowed, np.array([c.complexity for c in front], dtype=float)


def _split_meta(note: str, groups: np.ndarray | None, idx_tr: np.ndarray, idx_val: np.ndarray,
                loso: bool, n_search: int) -> dict:
    """How many haloes trained, searched and chose, the note on the choice's data and the
    simulations it held out (listed here, not in the note: an LH set holds out hundreds)."""
    return {"n_train": len(idx_tr), "n_search": n_search, "n_val": len(idx_val),
            "validation_split": note,
            "validation_simulations": ([] if groups is None or loso else
                                       sorted(set(np.asarray(groups).astype(str)[idx_val])))}


def _validation_sims(groups: np.ndarray | None, idx_val: np.ndarray,
                     options: SROptions) -> np.ndarray | None:
    """The simulation of each validation halo, for errors clustered by simulation (or None)."""
    if groups is None or not options.cluster_errors:
        return None
    return np.asarray(groups).astype(str)[idx_val]


def _domain_meta(options: SROptions, rejected: list[dict]) -> dict:
    """The domain check's settings and the candidates it turned away (the first 100)."""
    domain = ({"margin": options.domain_margin, "blowup": options.domain_blowup,
               "n_rejected": len(rejected)} if options.domain_check else "off")
    return {"domain": domain, "rejected": rejected[:100]}


def _front_of(seen: dict[str, Candidate], noise_model: str) -> list[Candidate]:
    """The Pareto front of the candidates of ``seen`` finite in ``noise_model``'s space."""
    return _front([c for c in seen.values() if _finite_in(c, noise_model)], noise_model)


def _snapped(seen: dict[str, Candidate], front: list[Candidate], names: list[str],
             train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
             log_space: bool, options: SROptions, candidate,
             noise_model: str) -> dict[str, Candidate]:
    """``seen`` plus each front equation's canonical form (:mod:`.snapping`): redundant and
    noise-level constants snapped, so that complexity counts the structure of an equation rather
    than how the engine happened to write it."""
    out = dict(seen)
    for c in front:
        expr, steps = snap_constants(c.expr, list(names), *train, *val, log_space,
                                     z=options.choice_z, n_sigma=options.snap_n_sigma,
                                     max_denominator=options.snap_max_denominator)
        key = sp.srepr(expr)
        if steps and key not in out and (s := candidate(expr, c.seed, c.found_in)) is not None \
                and _finite_in(s, noise_model):
            s.snapped = steps
            out[key] = s
    return out


def _conditioned(c: Candidate) -> Conditioning:
    """A front equation's conditioning measures (every equation of the front has them)."""
    assert c.conditioning is not None, f"{c.expr}: conditioning not measured"
    return c.conditioning


def _front_table(front: list[Candidate], comp: np.ndarray, loss_val: np.ndarray, var_val: float,
                 scores: np.ndarray, excess: np.ndarray, allowed: np.ndarray,
                 per_sample: dict[str, list[float]]) -> Table:
    """The SR table's rows: one per front equation (see :func:`discover`)."""
    columns = {
        "complexity": comp.astype(int),
        "loss_train": [c.loss_train for c in front],
        "loss_val": loss_val,
        "r2_val": 1.0 - loss_val / var_val,
        "score": scores,
        "excess_se": excess,
        "seed": [c.seed for c in front],
        "found_in": [c.found_in for c in front],
        "n_snapped": [len(c.snapped) for c in front],
        "n_rewritten": [len(c.rewritten) for c in front],
        "cancellation": [_conditioned(c).cancellation for c in front],
        "n_constants": [_conditioned(c).n_constants for c in front],
        "n_undetermined": [_conditioned(c).n_undetermined for c in front],
        "worst_relative_error": [_conditioned(c).worst_relative_error for c in front],
        "condition_number": [_conditioned(c).condition_number for c in front],
        "choosable": allowed,
        "not_choosable_because": ["; ".join(c.problems) for c in front],
        "expression": [str(c.expr) for c in front],
        "latex": [to_latex(c.expr) for c in front],
    }
    for s, losses in per_sample.items():
        columns[f"loss_out_{s}"] = losses
    return Table(columns)


def _chosen_meta(refit, chosen: Candidate, noise_model: str) -> dict:
    """The chosen equation in the SR table's metadata: with its constants refitted on every halo
    (``refit``), their errors and covariance, and the snaps and rewrites that made it."""
    return {
        "chosen": str(refit.expr),
        "chosen_latex": to_latex(refit.expr),
        "chosen_engine": str(chosen.expr),  # constants fitted on the training split
        # constants _c0, _c1, ... in the order of meta['constants']
        "chosen_template": str(refit.template),
        # constants typeset c_0, c_1, ... in the order of meta['constants']
        "chosen_template_latex": re.sub(r"\\mathrm\{\\_c(\d+)\}", r"c_{\1}",
                                        to_latex(refit.template)),
        "constants": [
            {"name": f"c_{i}", "value": float(v), "error": float(e)}
            for i, (v, e) in enumerate(zip(refit.values, refit.errors, strict=True))
        ],
        # row-major, in the order of meta['constants']; NaN where the constants are degenerate
        "constants_covariance": [[float(v) for v in row] for row in refit.covariance],
        "constants_rule": "least-squares refit on all haloes (train + validation"
                          + ("; residuals in ln y" if noise_model == "log" else "")
                          + "); 1-sigma errors from the Jacobian scaled by the residual variance",
        "snapped_constants": [asdict(step) for step in chosen.snapped],
        "rewrites": [asdict(step) for step in chosen.rewritten],
    }


def _rules_meta(options: SROptions) -> dict:
    """The snapping, rewriting and conditioning rules in words (SR table metadata)."""
    return {
        "rewrite_rule": (f"degenerate pieces rewritten on the domain when the prediction moves "
                         f"by <= {options.rewrite_tolerance:g} everywhere there "
                         "(pipeline.discovery.sr.rewrites)" if options.readable_rewrites
                         else "off"),
        "snap_rule": (f"a constant within {options.snap_n_sigma:g} sigma of a rational p/q "
                      f"(q <= {options.snap_max_denominator}) "
                      f"is fixed to it when the validation loss rises by <= {options.choice_z:g} "
                      "paired standard errors" if options.snap_constants else "off"),
        "conditioning_rule": (f"choosable: every constant determined (1-sigma error < |value|) "
                              f"and no cancelling terms (largest term <= "
                              f"{options.max_cancellation:g} x the correction); degenerate "
                              "constants fixed to simple numbers first where the data allow "
                              "(pipeline.discovery.sr.conditioning)" if options.conditioning
                              else "off (measured, not enforced)"),
    }
