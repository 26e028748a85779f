"""Sympy expressions typeset as Typst math, with the columns written as astronomers write them.

The printer walks the sympy tree: sums with their signs, products with fractions for negative
powers, square and higher roots, ``exp``/``ln``, constants rounded to a few significant figures
and the SR template's free constants ``_c0, _c1, ...`` as ``c_0, c_1, ...``.

Two layouts: ``inline`` writes every fraction with a slash, so that an equation in a table cell
keeps the height of a text line and can wrap without overlapping the next row;
:func:`typst_math_lines` breaks a long display equation at its top-level terms or factors into
aligned lines, so that nothing is shrunk to illegibility or cut off.
"""

from __future__ import annotations

import re

import sympy as sp

from ..columns.symbols import TYPST_SYMBOLS

__all__ = ["typst_math", "typst_math_lines", "column_symbol", "value_with_error", "slope_math"]

# written with a slash: bracketed in products
_COMPOUND = {"Mstar_over_Mgas", "Y500c_over_Y200c", "Mstar_over_M_virial", "Vmax_over_V200c",
             "r_host_r200c", "d_more_massive_r200c"}


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


def slope_math(slope: float) -> str:
    """A self-similar slope as papers write it: ``0.6`` where the decimal is exact and short,
    ``5/3`` (a fraction in Typst math) rather than 1.66667, nothing for 1; any other keeps its
    decimals."""
    if slope == 1:
        return ""  # y = x + f
    short = f"{slope:g}"
    if float(short) == slope and len(short) <= 5:  # 0.6, 1, 1.25: exact as written
        return short
    fraction = sp.nsimplify(slope, tolerance=1e-9, rational=True)
    return short if fraction.q > 12 else f"{fraction.p}/{fraction.q}"


def value_with_error(value: float, error: float, max_digits: int = 4) -> str:
    """Typst math of a fitted constant with its 1-sigma error in parentheses on its last digits
    (``0.2001(41)``, ``3.747(25) times 10^(5)``): the error to two significant digits, the value
    to the same decimal place and at most ``max_digits`` significant digits. A constant whose
    error reaches its magnitude (or has none) is written to 3 digits and marked undetermined."""
    import math

    if not math.isfinite(value):
        return '"not finite"'
    if error == 0:  # fixed, not fitted
        return _number(value, max_digits)
    if not math.isfinite(error) or error >= abs(value) or error < 0:
        return _number(value, 3) + ' " (undetermined)"'
    exponent = 0 if value == 0 else math.floor(math.log10(abs(value)))
    scientific = exponent >= 4 or exponent <= -3
    scale = 10.0 ** exponent if scientific else 1.0
    mantissa, err = value / scale, error / scale
    lead = 0 if mantissa == 0 else math.floor(math.log10(abs(mantissa)))
    decimals = 1 - math.floor(math.log10(err)) if err > 0 else max_digits - 1 - lead
    decimals = max(0, min(decimals, max_digits - 1 - lead))
    err_digits = max(1, round(err * 10 ** decimals))
    text = f"{mantissa:.{decimals}f}({err_digits})"
    return f"{text} times 10^({exponent})" if scientific else text


def typst_math(expr: sp.Expr, digits: int = 3, inline: bool = False) -> str:
    """Typst math (the inside of ``$ ... $``) of ``expr``; ``inline``: fractions with a slash
    (one text line high, for table cells)."""
    if isinstance(expr, str):  # sympify would evaluate text as Python
        raise TypeError("typst_math takes a sympy expression; parse text with "
                        "pipeline.io.equations.parse_equation first")
    return _print(sp.sympify(expr), digits, inline)


def _visible_length(math: str) -> int:
    """A rough printed width of Typst math in characters: markup words, quotes and brackets
    left out (a stacked fraction counts in full: an upper bound)."""
    text = re.sub(r'\b(frac|sqrt|root|times|dot|op|slash)\b|["\\()]', "", math)
    return len(re.sub(r"_\w+|\^", "", text))


def typst_math_lines(expr: sp.Expr, lhs: str, digits: int = 4, width: int = 70) -> list[str]:
    """Display math ``lhs = expr`` broken into lines of at most about ``width`` characters at
    the top-level terms of a sum, or the factors of a product (each line after the first starts
    with its sign or ``times``); lines for a Typst ``$ ... $`` block with ``&`` alignment. An
    expression that fits, or that has no such pieces, is one line."""
    if isinstance(expr, str):
        raise TypeError("typst_math_lines takes a sympy expression")
    expr = sp.sympify(expr)
    one = _signed_sum(lhs, _print(expr, digits, False))
    if _visible_length(one) <= width:
        return [one]
    pieces: list[tuple[str, str]] = []  # (joiner, math)
    if expr.is_Add:
        for term in expr.as_ordered_terms():
            negative = term.could_extract_minus_sign()
            pieces.append(("-" if negative else "+", _print(-term if negative else term, digits,
                                                            False)))
    elif expr.is_Mul:
        sign = "-" if expr.could_extract_minus_sign() else "+"
        body = -expr if sign == "-" else expr
        num, den = sp.fraction(body, exact=True)
        factors = list(num.as_ordered_factors()) if num.is_Mul else [num]
        numbers = [f for f in factors if f.is_Number]
        others = [f for f in factors if not f.is_Number]
        lead = sp.Mul(*numbers) / den
        first = True
        if lead != 1:
            pieces.append((sign, _print(lead, digits, False)))
            first = False
        for f in others:
            pieces.append((sign if first else "times", _factor(f, digits, False)))
            first = False
    if len(pieces) < 2:
        return [one]
    # the first piece goes on the first line with the lhs; a later piece joins the line it
    # fits on, else opens a new one
    joiner, math = pieces[0]
    lines = [_signed_sum(lhs, ("-" if joiner == "-" else "") + math)]
    for joiner, math in pieces[1:]:
        candidate = f"{lines[-1]} {joiner} {math}"
        if _visible_length(candidate) > width:
            lines.append(f"{joiner} {math}")
        else:
            lines[-1] = candidate
    return lines


def _signed_sum(lhs: str, rhs: str) -> str:
    """``lhs + rhs`` in Typst math, written ``lhs - ...`` when ``rhs`` starts with a minus, and
    ``lhs rhs`` when ``lhs`` ends with its equals sign (a target without a slope)."""
    if lhs.endswith("="):
        return f"{lhs} {rhs}"
    return f"{lhs} - {rhs[1:].lstrip()}" if rhs.startswith("-") else f"{lhs} + {rhs}"


def _atomic(expr: sp.Expr) -> bool:
    if expr.is_Symbol:
        return expr.name not in _COMPOUND and not expr.name.startswith("log10_")
    return expr.is_Number and not (expr.is_Rational and not expr.is_Integer) and expr >= 0


def _paren(text: str, inline: bool) -> str:
    """``text`` in brackets. Inline (table cells) the brackets are plain characters: Typst
    sizes a matched pair as one unbreakable group, and a long group overflowed its cell."""
    return f"\\( {text} \\)" if inline else f"({text})"


def _factor(expr: sp.Expr, digits: int, inline: bool) -> str:
    """A factor of a product: bracketed when it is a sum or written with a slash."""
    text = _print(expr, digits, inline)
    if expr.is_Add or (expr.is_Symbol and not _atomic(expr)) or (
            expr.is_Number and expr < 0):
        return _paren(text, inline)
    return text


def _print(expr: sp.Expr, digits: int, inline: bool) -> str:
    if expr.is_Symbol:
        return column_symbol(expr.name)
    if expr.is_Integer:  # a large one (2 x 10^7 after snapping) reads better in powers of ten
        return str(int(expr)) if abs(int(expr)) < 10**5 else _number(float(expr), digits)
    if expr.is_Rational:
        return f"{int(expr.p)} slash {int(expr.q)}" if inline else f"{int(expr.p)}/{int(expr.q)}"
    if expr.is_Float or expr.is_Number:
        return _number(float(expr), digits)
    if expr.is_Add:
        out = ""
        for i, term in enumerate(expr.as_ordered_terms()):
            negative = term.could_extract_minus_sign()
            body = _print(-term if negative else term, digits, inline)
            if i == 0:
                out = ("-" if negative else "") + body
            else:
                out += (" - " if negative else " + ") + body
        return out
    if expr.is_Mul:
        if expr.could_extract_minus_sign():
            inner = -expr
            return "-" + (_factor(inner, digits, inline) if inner.is_Add else _print(inner, digits, inline))
        num, den = sp.fraction(expr, exact=True)  # exp(-x) stays a factor, not 1/exp(x)
        if den != 1:
            if inline:  # a slash keeps a table row one line high
                num_text = _print(num, digits, inline)
                if num.is_Add or (num.is_Number and num < 0):
                    num_text = _paren(num_text, inline)
                den_text = _print(den, digits, inline)
                if not (den.is_Symbol and _atomic(den)) and not den.is_Integer:
                    den_text = _paren(den_text, inline)
                return f"{num_text} slash {den_text}"
            return f"frac({_print(num, digits, inline)}, {_print(den, digits, inline)})"
        # a coefficient the engine left at 1.0 (after snapping) is not written
        factors = [f for f in expr.as_ordered_factors() if not (f.is_Number and f == 1)] or [sp.S.One]
        parts = [_factor(f, digits, inline) for f in factors]
        if inline and len(parts) > 1 and _visible_length(" ".join(parts)) > 30:
            # Typst breaks inline math only at operators: a long product of factors in a
            # table cell needs its dots to wrap
            return " dot ".join(parts)
        # a number after another factor reads as a coefficient in the wrong place: use a dot
        return " ".join(p if i == 0 or not factors[i].is_Number else f"dot {p}"
                        for i, p in enumerate(parts))
    if expr.is_Pow:
        base, exponent = expr.as_base_exp()
        if exponent == sp.Rational(1, 2):
            return f"sqrt({_print(base, digits, inline)})"
        if exponent.is_Rational and exponent.p == 1 and exponent.q > 2:
            return f"root({exponent.q}, {_print(base, digits, inline)})"
        if exponent.is_Number and exponent < 0:
            if inline:
                return f"1 slash {_paren(_print(base ** -exponent, digits, inline), inline)}"
            return f"frac(1, {_print(base ** -exponent, digits, inline)})"
        base_text = _print(base, digits, inline)
        if not _atomic(base):
            base_text = _paren(base_text, inline)
        return f"{base_text}^({_print(exponent, digits, inline)})"
    if expr.func == sp.exp:
        return f"exp{_paren(_print(expr.args[0], digits, inline), inline)}"
    if expr.func == sp.log:
        return f"ln{_paren(_print(expr.args[0], digits, inline), inline)}"
    if expr.func == sp.Abs:
        return f"abs({_print(expr.args[0], digits, inline)})"
    name = getattr(expr.func, "__name__", str(expr.func))
    args = ", ".join(_print(a, digits, inline) for a in expr.args)
    return f'op("{name}")({args})'
