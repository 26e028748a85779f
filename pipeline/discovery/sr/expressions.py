"""Engine-independent handling of discovered expressions: sympy parsing, LaTeX, complexity."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp

from ...columns.symbols import LATEX_SYMBOLS

__all__ = ["parse_expression", "lambdified", "to_callable", "node_count", "to_latex"]

_FUNCTIONS = {"log": sp.log, "log1p": lambda a: sp.log(1 + a), "exp": sp.exp, "sqrt": sp.sqrt,
              "abs": sp.Abs, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
              "square": lambda a: a**2, "cube": lambda a: a**3,
              "aq": lambda a, b: a / sp.sqrt(1 + b**2)}


def parse_expression(text: str, names: list[str], engine_names: list[str] | None = None) -> sp.Expr:
    """Parse an engine's expression string into sympy with symbols named after ``names``.

    ``engine_names`` are the variable names the engine used (default: the same as ``names``);
    ``^`` is read as a power.
    """
    engine_names = engine_names or names
    local = dict(_FUNCTIONS)
    placeholders = {e: sp.Symbol(f"__v{i}") for i, e in enumerate(engine_names)}
    local.update(placeholders)
    try:
        expr = sp.sympify(text.replace("^", "**"), locals=local)
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise ValueError(f"cannot parse expression {text!r}: {exc}") from exc
    return expr.subs({placeholders[e]: sp.Symbol(n) for e, n in zip(engine_names, names, strict=True)})


@functools.lru_cache(maxsize=4096)
def lambdified(arguments: tuple[str, ...], expr: sp.Expr) -> Callable:
    """``sympy.lambdify`` of ``expr`` over the symbols named ``arguments`` (numpy), cached: the
    search scores, snaps, refits and checks the same few hundred expressions many times, and
    printing + compiling one costs ~5 ms (most of the stage's time after the engine runs)."""
    return sp.lambdify([sp.Symbol(n) for n in arguments], expr, modules="numpy")


def to_callable(expr: sp.Expr, names: list[str]) -> Callable[[np.ndarray], np.ndarray]:
    """f(X) evaluating ``expr`` on the columns of X (n, len(names)), vectorised with numpy."""
    if sp.sympify(expr).has(sp.zoo, sp.nan):  # e.g. an engine's division by a zero constant
        return lambda x: np.full(x.shape[0], np.nan)
    fn = lambdified(tuple(names), expr)

    def evaluate(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = fn(*[x[:, i] for i in range(x.shape[1])])
        return np.broadcast_to(np.asarray(out, dtype=float), (x.shape[0],)).copy()

    return evaluate


def node_count(expr: sp.Expr) -> int:
    """Complexity as the number of nodes of the expression tree (as PySR counts it)."""
    return sum(1 for _ in sp.preorder_traversal(expr))


def to_latex(expr: sp.Expr, digits: int = 3) -> str:
    """LaTeX of ``expr`` with constants rounded to ``digits`` significant figures and columns
    typeset by :data:`LATEX_SYMBOLS` (renders in matplotlib mathtext)."""
    rounded = expr.xreplace(
        {f: sp.Float(float(f"{float(f):.{digits}g}"), digits) for f in expr.atoms(sp.Float)}
    )
    names = {s: LATEX_SYMBOLS.get(s.name, rf"\mathrm{{{s.name}}}".replace("_", r"\_"))
             for s in rounded.free_symbols}
    text = sp.latex(rounded, symbol_names=names, mul_symbol="dot")
    return text.replace(r"\operatorname", r"\mathrm")
