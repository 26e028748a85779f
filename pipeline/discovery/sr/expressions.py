"""Engine-independent handling of discovered expressions: parsing (as data), LaTeX, complexity."""

from __future__ import annotations

import threading
from collections import OrderedDict
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


#: most compiled expressions kept
_CACHE_SIZE = 4096
_compiled: OrderedDict[tuple[tuple[str, ...], str], Callable] = OrderedDict()
_compiled_lock = threading.Lock()


def lambdified(arguments: tuple[str, ...], expr: sp.Expr) -> Callable:
    """``sympy.lambdify`` of ``expr`` over the symbols named ``arguments`` (numpy), cached: the
    search scores, snaps, refits and checks the same few hundred expressions many times, and
    printing + compiling one costs ~5 ms (most of the stage's time after the engine runs).

    The cache is keyed by the expression's ``srepr``, not by the expression: sympy calls two
    expressions equal (same hash) when their numbers agree to the lower of their precisions, yet
    they print, and so compute, with different digits. Keyed by equality, which of the two was
    compiled first decided the later results: a search's table depended on what the process (and
    its other threads) had done before (seen: the 9th digit of a refitted constant after ~4000
    compilations)."""
    key = (tuple(arguments), sp.srepr(expr))
    with _compiled_lock:
        fn = _compiled.get(key)
        if fn is not None:
            _compiled.move_to_end(key)
            return fn
    fn = sp.lambdify([sp.Symbol(n) for n in arguments], expr, modules="numpy")
    with _compiled_lock:
        _compiled[key] = fn
        if len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return fn


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
