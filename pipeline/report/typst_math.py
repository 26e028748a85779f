"""Sympy expressions typeset as Typst math, with the columns written as astronomers write them.

The printer walks the sympy tree: sums with their signs, products with fractions for negative
powers, square and higher roots, ``exp``/``ln``, constants rounded to a few significant figures
and the SR template's free constants ``_c0, _c1, ...`` as ``c_0, c_1, ...``.
"""

from __future__ import annotations

import re

import sympy as sp

from ..columns.symbols import TYPST_SYMBOLS

__all__ = ["typst_math", "column_symbol"]

_COMPOUND = {"Mstar_over_Mgas", "Y500c_over_Y200c"}  # written with a slash: bracket in products


def column_symbol(name: str) -> str:
    """Typst math for a column or a template constant (``_c3`` -> ``c_3``)."""
    m = re.fullmatch(r"_c(\d+)", name)
    if m:
        return f"c_{m.group(1)}"
    if name in TYPST_SYMBOLS:
        return TYPST_SYMBOLS[name]
    return '"' + name.replace("\\", "").replace('"', "") + '"'


def _number(value: float, digits: int) -> str:
    # keep trailing zeros: a fitted 1.0004 reads "1.00", not an exact 1
    text = f"{value:#.{digits}g}".rstrip(".")
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} times 10^({int(exponent)})"
    return text


def typst_math(expr: sp.Expr, digits: int = 3) -> str:
    """Typst math (the inside of ``$ ... $``) of ``expr``."""
    if isinstance(expr, str):  # sympify would evaluate text as Python
        raise TypeError("typst_math takes a sympy expression; parse text with "
                        "pipeline.io.equations.parse_equation first")
    return _print(sp.sympify(expr), digits)


def _atomic(expr: sp.Expr) -> bool:
    if expr.is_Symbol:
        return expr.name not in _COMPOUND and not expr.name.startswith("log10_")
    return expr.is_Number and not (expr.is_Rational and not expr.is_Integer) and expr >= 0


def _factor(expr: sp.Expr, digits: int) -> str:
    """A factor of a product: bracketed when it is a sum or written with a slash."""
    text = _print(expr, digits)
    if expr.is_Add or (expr.is_Symbol and not _atomic(expr)) or (
            expr.is_Number and expr < 0):
        return f"({text})"
    return text


def _print(expr: sp.Expr, digits: int) -> str:
    if expr.is_Symbol:
        return column_symbol(expr.name)
    if expr.is_Integer:
        return str(int(expr))
    if expr.is_Rational:
        return f"{int(expr.p)}/{int(expr.q)}"
    if expr.is_Float or expr.is_Number:
        return _number(float(expr), digits)
    if expr.is_Add:
        out = ""
        for i, term in enumerate(expr.as_ordered_terms()):
            negative = term.could_extract_minus_sign()
            body = _print(-term if negative else term, digits)
            if i == 0:
                out = ("-" if negative else "") + body
            else:
                out += (" - " if negative else " + ") + body
        return out
    if expr.is_Mul:
        if expr.could_extract_minus_sign():
            inner = -expr
            return "-" + (_factor(inner, digits) if inner.is_Add else _print(inner, digits))
        num, den = sp.fraction(expr, exact=True)  # exp(-x) stays a factor, not 1/exp(x)
        if den != 1:
            return f"frac({_print(num, digits)}, {_print(den, digits)})"
        # a coefficient the engine left at 1.0 (after snapping) is not written
        factors = [f for f in expr.as_ordered_factors() if not (f.is_Number and f == 1)] or [sp.S.One]
        parts = [_factor(f, digits) for f in factors]
        # a number after another factor reads as a coefficient in the wrong place: use a dot
        return " ".join(p if i == 0 or not factors[i].is_Number else f"dot {p}"
                        for i, p in enumerate(parts))
    if expr.is_Pow:
        base, exponent = expr.as_base_exp()
        if exponent == sp.Rational(1, 2):
            return f"sqrt({_print(base, digits)})"
        if exponent.is_Rational and exponent.p == 1 and exponent.q > 2:
            return f"root({exponent.q}, {_print(base, digits)})"
        if exponent.is_Number and exponent < 0:
            return f"frac(1, {_print(base ** -exponent, digits)})"
        base_text = _print(base, digits)
        if not _atomic(base):
            base_text = f"({base_text})"
        return f"{base_text}^({_print(exponent, digits)})"
    if expr.func == sp.exp:
        return f"exp({_print(expr.args[0], digits)})"
    if expr.func == sp.log:
        return f"ln({_print(expr.args[0], digits)})"
    if expr.func == sp.Abs:
        return f"abs({_print(expr.args[0], digits)})"
    name = getattr(expr.func, "__name__", str(expr.func))
    args = ", ".join(_print(a, digits) for a in expr.args)
    return f'op("{name}")({args})'
