"""Engine-independent handling of discovered expressions: parsing (as data), LaTeX, complexity."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy as sp

from ...columns.symbols import LATEX_SYMBOLS
from ...io.equations import parse_equation

__all__ = ["parse_expression", "lambdified", "to_callable", "node_count", "to_latex"]


def parse_expression(text: str, names: list[str], engine_names: list[str] | None = None) -> sp.Expr:
    """Parse an engine's expression string into sympy with symbols named after ``names``.

    ``engine_names`` are the variable names the engine used (default: the same as ``names``);
    ``^`` is read as a power. The text is parsed as data, never evaluated
    (:func:`pipeline.io.equations.parse_equation`, which knows the engines' functions: log1p,
    square, cube, aq); ValueError for anything else.
    """
    engine_names = engine_names or names
    expr = parse_equation(text, engine_names)
    # simultaneous, so that an engine name equal to another column's name cannot be renamed twice
    return expr.xreplace({sp.Symbol(e): sp.Symbol(n)
                          for e, n in zip(engine_names, names, strict=True)})


@functools.lru_cache(maxsize=4096)
def lambdified(arguments: tuple[str, ...], expr: sp.Expr) -> Callable:
    """``sympy.lambdify`` of ``expr`` over the symbols named ``arguments`` (numpy), cached: the
    search scores, snaps, refits and checks the same few hundred expressions many times, and
    printing + compiling one costs ~5 ms (most of the stage's time after the engine runs)."""
    return sp.lambdify([sp.Symbol(n) for n in arguments], expr, modules="numpy")


def to_callable(expr: sp.Expr, names: list[str]) -> Callable[[np.ndarray], np.ndarray]:
    """f(X) evaluating ``expr`` on the columns of X (n, len(names)), vectorised with numpy."""
    if isinstance(expr, str):  # sympify would evaluate text as Python
        raise TypeError("to_callable takes a sympy expression; parse text with parse_expression")
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
