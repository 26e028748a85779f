"""The SR stage's contract with the stages after it: what an SR table's metadata holds.

:func:`pipeline.discovery.sr.search.discover` writes these keys into the table's ``meta`` (the
SR stage adds ``slope`` and the CLI ``target``); the evaluate stage, the relation file, the
report and the results page read them through :class:`SRMeta`, never by string keys of their
own. ``tests/unit/test_sr_record.py`` checks that every key the stage writes is a field here,
so a key added on one side cannot be missed on the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ...defaults import section_defaults

__all__ = ["Constant", "SRMeta"]


@dataclass(frozen=True)
class Constant:
    """A fitted constant of the chosen template: ``name`` (``c_0``, ...), its value and 1-sigma
    error (NaN where the fit cannot tell it from others)."""

    name: str
    value: float
    error: float

    @property
    def determined(self) -> bool:
        """Its 1-sigma error is finite and below its magnitude."""
        return self.error == self.error and self.error < abs(self.value)


@dataclass(frozen=True)
class SRMeta:
    """The metadata of an SR table (one target, one slope constraint).

    The chosen equation: ``chosen`` (the correction f with its constants refitted on every
    training halo, sympy text at full precision), ``chosen_latex``, ``chosen_engine`` (as the
    engine fitted it on the training split), ``chosen_template`` (constants as ``_c0, _c1, ...``)
    and its LaTeX, ``constants`` with their covariance (row-major, in the constants' order) and
    how they were fitted (``constants_rule``); ``snapped_constants`` and ``rewrites``: the steps
    that made it from the engine's form. ``features``: the names the equations read.

    How it was chosen: ``verdict`` (the do-no-harm verdict: ``recommended`` and the data it was
    judged on), ``choice_rule``, ``choice_data`` (``transfer`` or ``split``), the data it was
    chosen on (``validation_split`` in words, ``validation_simulations`` held out: listed, not
    written into the note), the halo counts (``n_train``, ``n_search``, ``n_val``),
    ``target_var_val``, the number of candidates, the rules of snapping, rewriting and
    conditioning in words, the domain check (``domain``; ``rejected``: the candidates it turned
    away with the reason), the noise model (``linear`` or ``log``, with each one's validation
    NLL) and the search spaces.

    How the search ran: ``engine_runs`` (per engine run: seed, generations, evaluations and what
    stopped it) and ``time_cap_hit``. ``slope``: the slope constraint in words (the SR stage);
    ``target``: the study's target entry (the CLI); ``provenance``.
    """

    chosen: str
    features: tuple[str, ...]
    chosen_latex: str = ""
    chosen_engine: str = ""
    chosen_template: str = ""
    chosen_template_latex: str = ""
    constants: tuple[Constant, ...] = ()
    constants_covariance: tuple[tuple[float, ...], ...] = ()
    constants_rule: str = ""
    snapped_constants: tuple[dict, ...] = ()
    rewrites: tuple[dict, ...] = ()
    rewrite_rule: str = ""
    snap_rule: str = ""
    conditioning_rule: str = ""
    verdict: dict = field(default_factory=dict)
    engine_runs: tuple[dict, ...] = ()
    time_cap_hit: bool = False
    search_spaces: tuple[str, ...] = ()
    noise_model: str = "linear"
    noise_model_nll: dict = field(default_factory=dict)
    n_train: int = 0
    n_search: int = 0
    n_val: int = 0
    validation_split: str = "by halo"
    validation_simulations: tuple[str, ...] = ()
    choice_data: str = "split"
    target_var_val: float = float("nan")
    n_candidates: int = 0
    choice_rule: str = ""
    domain: Any = "off"
    rejected: tuple[dict, ...] = ()
    provenance: dict = field(default_factory=dict)
    slope: str = ""
    target: dict = field(default_factory=dict)

    @property
    def recommended(self) -> bool:
        """Whether the chosen equation beats the constant model on the choice's own data."""
        return bool(self.verdict.get("recommended", True))

    @property
    def undetermined(self) -> tuple[str, ...]:
        """The chosen constants whose 1-sigma error reaches their magnitude (or is unknown)."""
        return tuple(c.name for c in self.constants if not c.determined)

    @property
    def max_cancellation(self) -> float:
        """The conditioning limit the search ran with (``sr.max_cancellation``)."""
        options = self.provenance.get("options") or {}
        # a table written before the option existed ran with the schema's default
        return float(options.get("max_cancellation", section_defaults("sr")["max_cancellation"]))

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """Every metadata key of an SR table, in the order the stage writes them."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_meta(cls, meta: Mapping) -> SRMeta:
        """The record of an SR table's ``meta`` (a table written by an older release may lack
        some keys: they take the defaults above; unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in meta.items() if k in known}
        for name in ("features", "snapped_constants", "rewrites", "engine_runs", "search_spaces",
                     "validation_simulations", "rejected"):
            if name in values:
                values[name] = tuple(values[name] or ())
        values["constants"] = tuple(
            Constant(str(c["name"]), float(c["value"]), float(c["error"]))
            for c in (meta.get("constants") or ()))
        values["constants_covariance"] = tuple(
            tuple(float(v) for v in row) for row in (meta.get("constants_covariance") or ()))
        values["verdict"] = dict(meta.get("verdict") or {})
        return cls(**values)
