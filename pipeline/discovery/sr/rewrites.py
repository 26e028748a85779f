"""Readable forms: degenerate pieces of an equation rewritten to their equivalent on the domain.

An engine fits whatever shape lowers the loss, and some shapes only mimic a simpler one on the
data: ``log(4.99e11 Omega_m + 1)`` is ``log(Omega_m) + 26.9`` wherever ``4.99e11 Omega_m >> 1``;
``exp(0.003 x)`` is ``1 + 0.003 x`` wherever ``|0.003 x| << 1``; a sub-expression that hardly
varies over the data is a constant. Nobody would print the first forms, and their constants
(5e11) mean nothing. Rules, tried on every sub-expression from the outside in:

* ``log``: ``log(u + b)`` with a constant ``b`` and ``min |u / b| >= 1 / RATIO`` on the domain
  -> ``log(u)``, expanded (``log(a x) -> log(a) + log(x)``);
* ``exp``: ``exp(u)`` with ``max |u| <= RATIO`` on the domain -> ``1 + u``;
* ``constant``: a sub-expression (not a bare feature) whose spread on the domain is at most
  ``RATIO`` times its mean magnitude -> its mean;
* ``normalise`` (exact): ``log(u + b)`` -> ``log(b) + log(u/b + 1)`` and ``(u + b)^k`` ->
  ``b^k (u/b + 1)^k`` (k not an integer) for a constant ``b > 0`` more than a factor 10 from 1:
  ``log(223306 p + 79810)`` is ``log(2.80 p + 1)`` plus a constant, and only the ratio was ever
  determined.

A rewrite is kept only if the whole equation's prediction moves by at most ``tolerance`` (in the
target's units; ``sr.rewrite_tolerance``) at every domain point, the box of the data widened by
``sr.domain_margin`` (:mod:`.domain`). The constants are refitted afterwards by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .expressions import to_callable

__all__ = ["RewriteStep", "readable_form", "RATIO"]

#: how small a neglected part must be relative to what it is neglected against
RATIO = 1e-3
#: a constant term b of a log or power argument is normalised to 1 when |log10 b| exceeds this
NORMALISE_DEX = 1.0


@dataclass(frozen=True)
class RewriteStep:
    """One accepted rewrite: the rule, the piece before and after, and the largest change of
    the equation's prediction on the domain [target units]."""

    rule: str
    before: str
    after: str
    max_change: float


def _values(expr: sp.Expr, names: list[str], points: np.ndarray) -> np.ndarray:
    return to_callable(expr, names)(points)


def _constant_term(arg: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(u, b) for an Add ``u + b`` with a numeric ``b`` and a ``u`` that holds a feature."""
    if not isinstance(arg, sp.Add):
        return None
    const = sp.Add(*[t for t in arg.args if not t.free_symbols])
    rest = sp.Add(*[t for t in arg.args if t.free_symbols])
    if const == 0 or not rest.free_symbols:
        return None
    return rest, const


def _normalised(node: sp.Expr) -> list[tuple[str, sp.Expr]]:
    """``log(u + b)`` -> ``log(b) + log(u/b + 1)`` and ``(u + b)^k`` -> ``b^k (u/b + 1)^k``
    (k not an integer) for a constant ``b > 0`` far from 1: exact, and the constants of ``u/b``
    then say where the correction matters (``log(223306 p + 79810)`` is ``log(2.80 p + 1)`` plus
    a constant)."""
    arg = node.args[0] if isinstance(node, sp.log) else node.base
    if isinstance(node, sp.Pow) and node.exp.is_Integer:
        return []
    parts = _constant_term(arg)
    if parts is None or not parts[1].is_positive or abs(np.log10(float(parts[1]))) <= NORMALISE_DEX:
        return []
    u, b = parts
    inner = sp.expand(u / b) + 1
    if isinstance(node, sp.log):
        return [("normalise", sp.log(b) + sp.log(inner))]
    return [("normalise", b**node.exp * inner**node.exp)]


def _proposals(node: sp.Expr, names: list[str], points: np.ndarray) -> list[tuple[str, sp.Expr]]:
    """The rewrites of one sub-expression that its values on the domain allow."""
    out: list = []
    if not node.free_symbols or isinstance(node, sp.Symbol):
        return out
    with np.errstate(all="ignore"):
        if isinstance(node, sp.log) and (parts := _constant_term(node.args[0])) is not None:
            u, b = parts
            ratio = np.abs(_values(u, names, points) / float(b))
            if np.all(np.isfinite(ratio)) and ratio.min() >= 1.0 / RATIO:
                out.append(("log", sp.expand_log(sp.log(u), force=True)))
        if isinstance(node, (sp.log, sp.Pow)):
            out += _normalised(node)
        if isinstance(node, sp.exp):
            u = node.args[0]
            v = _values(u, names, points)
            if np.all(np.isfinite(v)) and np.abs(v).max() <= RATIO:
                out.append(("exp", 1 + u))
        v = _values(node, names, points)
        if np.all(np.isfinite(v)) and v.size:
            mean = float(np.mean(v))
            if np.ptp(v) <= RATIO * max(abs(mean), 1e-300):
                out.append(("constant", sp.Float(mean, 15)))
    return out


def readable_form(expr: sp.Expr, names: list[str], points: np.ndarray, tolerance: float
                  ) -> tuple[sp.Expr, list[RewriteStep]]:
    """``expr`` with every degenerate piece rewritten as the module docstring says (on the
    domain ``points``, (n, len(names))), and the accepted steps in order. Constants are not
    refitted here."""
    reference = _values(expr, names, points)
    if not np.all(np.isfinite(reference)):
        return expr, []
    steps: list[RewriteStep] = []
    changed = True
    while changed:
        changed = False
        for node in sp.preorder_traversal(expr):
            for rule, new in _proposals(node, names, points):
                trial = expr.xreplace({node: new})
                if trial == expr or (not trial.free_symbols and expr.free_symbols):
                    continue  # nothing changed, or the whole relation turned constant
                change = np.abs(_values(trial, names, points) - reference)
                if np.all(np.isfinite(change)) and change.max() <= tolerance:
                    steps.append(RewriteStep(rule, str(node), str(new), float(change.max())))
                    expr, changed = trial, True
                    break
            if changed:
                break
    return expr, steps
