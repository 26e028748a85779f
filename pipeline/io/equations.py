"""Equations read from files are data, never code: a whitelist parser from text to sympy.

A relation file, an SR table's ``expression`` / ``chosen`` and the metadata the report reads can
all come from someone else (results folders and relation files are made to be shared).
``sympy.sympify`` evaluates its input as Python, so a file holding
``__import__('os').system(...)`` would run a command on the reader's machine. This module never
evaluates text: it parses it with :func:`ast.parse` (which only builds a tree), checks every node
against a whitelist and builds the sympy expression from the tree with sympy's own arithmetic.

Accepted:

* numbers (integers and decimals, as written: ``1.5e-3``; no strings, booleans or complex);
* the names the caller declares (the file's columns and constants), and ``E`` and ``pi``;
* ``+ - * / **`` (``^`` is read as ``**``, as the SR engines write powers), unary ``+ -`` and
  parentheses;
* calls of the functions in :data:`FUNCTIONS` (what sympy prints and the SR engines emit), with
  positional arguments only.

Anything else (attribute access, dunder names, calls of other names, lambdas, strings,
subscripts, comparisons, keyword arguments, ...) raises :class:`UnsafeEquationError` naming the
offending token and its column. The work is bounded before anything is built: at most
:data:`MAX_CHARS` characters, :data:`MAX_NODES` tree nodes, nesting :data:`MAX_DEPTH` deep, no
numeric exponent beyond :data:`MAX_EXPONENT` in size and no exact number of more than
:data:`MAX_DIGITS` digits (``10**10**10`` is refused, not computed).

The result equals ``sympy.sympify`` of the same (legitimate) text, atom for atom: decimals become
``sympy.Float`` of the literal as written (its precision too), integers ``sympy.Integer``, and the
operators are sympy's own, so ``2/3`` is ``Rational(2, 3)``. Relations applied from files
therefore predict bit for bit what the stage that wrote them computed.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

import sympy as sp

from ..errors import InputFileError

__all__ = ["FUNCTIONS", "MAX_CHARS", "MAX_DEPTH", "MAX_DIGITS", "MAX_EXPONENT", "MAX_NODES",
           "UnsafeEquationError", "parse_equation"]

#: longest accepted text [characters]: a found relation (``sr.max_length`` <= ~50 nodes, constants
#: at full precision) prints in well under 2000
MAX_CHARS = 8000
#: most nodes of the parsed Python tree
MAX_NODES = 2000
#: deepest nesting of the parsed tree (operators and calls)
MAX_DEPTH = 100
#: largest |exponent| of a power whose exponent is a number
MAX_EXPONENT = 100
#: most decimal digits of an exact number (integer or rational) built while parsing
MAX_DIGITS = 1000

_CONSTANTS = {"E": sp.E, "pi": sp.pi}


def _log(a, base=None):
    return sp.log(a) if base is None else sp.log(a, base)


#: function name -> (sympy constructor, accepted numbers of arguments): sympy's printed names
#: (``Abs``) and the SR engines' (``abs``, ``log1p``, ``square``, ``cube``, ``aq``)
FUNCTIONS: dict[str, tuple[Any, tuple[int, ...]]] = {
    "log": (_log, (1, 2)),
    "log10": (lambda a: sp.log(a, 10), (1,)),
    "log1p": (lambda a: sp.log(1 + a), (1,)),
    "exp": (sp.exp, (1,)),
    "sqrt": (sp.sqrt, (1,)),
    "cbrt": (sp.cbrt, (1,)),
    "Abs": (sp.Abs, (1,)),
    "abs": (sp.Abs, (1,)),
    "sin": (sp.sin, (1,)),
    "cos": (sp.cos, (1,)),
    "tan": (sp.tan, (1,)),
    "tanh": (sp.tanh, (1,)),
    "sinh": (sp.sinh, (1,)),
    "cosh": (sp.cosh, (1,)),
    "atan": (sp.atan, (1,)),
    "square": (lambda a: a**2, (1,)),
    "cube": (lambda a: a**3, (1,)),
    "aq": (lambda a, b: a / sp.sqrt(1 + b**2), (2,)),
}

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY: dict[type, Any] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class UnsafeEquationError(InputFileError, ValueError):
    """An equation text that is not a plain arithmetic expression of declared names, or too
    large to be a found relation. A ValueError too, as sympy's own parse errors are."""


def _describe(node: ast.AST) -> str:
    """What a refused node is, in words a user recognises."""
    kinds = {ast.Attribute: "attribute access", ast.Subscript: "a subscript",
             ast.Lambda: "a lambda", ast.Compare: "a comparison", ast.BoolOp: "a boolean operator",
             ast.IfExp: "a conditional", ast.Starred: "a starred argument",
             ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
             ast.ListComp: "a comprehension", ast.GeneratorExp: "a generator",
             ast.DictComp: "a comprehension", ast.SetComp: "a comprehension",
             ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment expression",
             ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
             ast.FormattedValue: "an f-string", ast.Slice: "a slice"}
    for kind, words in kinds.items():
        if isinstance(node, kind):
            return words
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    if isinstance(node, ast.UnaryOp):
        return f"the operator {type(node.op).__name__}"
    return type(node).__name__


class _Builder:
    """Builds the sympy expression from a checked tree (recursion bounded by MAX_DEPTH)."""

    def __init__(self, text: str, names: dict[str, sp.Symbol], where: str):
        self.text = text
        self.names = names
        self.where = where

    def refuse(self, node: ast.AST | None, what: str) -> UnsafeEquationError:
        at = ""
        if node is not None and hasattr(node, "col_offset"):
            token = ast.get_source_segment(self.text, node) or ""
            token = token if len(token) <= 60 else token[:57] + "..."
            at = f" ({token!r} at column {node.col_offset + 1})"
        shown = self.text if len(self.text) <= 120 else self.text[:117] + "..."
        return UnsafeEquationError(f"{self.where}equation {shown!r}: {what}{at}; an equation may "
                                   f"hold only numbers, its declared names, + - * / ** and the "
                                   f"functions {', '.join(sorted(FUNCTIONS))}")

    def build(self, node: ast.AST, depth: int = 0):
        if depth > MAX_DEPTH:
            raise self.refuse(node, f"nested deeper than {MAX_DEPTH} levels (not a found relation)")
        if isinstance(node, ast.Expression):
            return self.build(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.build(node.operand, depth + 1))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow):
                self.check_power(node, left, right)
            result = _BINARY[type(node.op)](left, right)
            self.check_number(node, result)
            return result
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.refuse(node, f"{_describe(node)} is not allowed")

    def number(self, node: ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = "a string" if isinstance(value, str | bytes) else f"the literal {value!r}"
            raise self.refuse(node, f"{kind} is not allowed")
        if isinstance(value, int):
            number = sp.Integer(value)
        else:
            # the literal as written, as sympify reads it (its digits set the Float's precision)
            literal = ast.get_source_segment(self.text, node) or repr(value)
            number = sp.Float(literal.replace("_", ""))
        self.check_number(node, number)
        return number

    def name(self, node: ast.Name):
        if node.id in self.names:
            return self.names[node.id]
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise self.refuse(node, f"the function {node.id} is used without a call")
        declared = ", ".join(sorted(self.names)) or "none"
        raise self.refuse(node, f"the name {node.id!r} is not declared (declared: {declared})")

    def call(self, node: ast.Call, depth: int):
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node.func, f"a call of {_describe(node.func)} is not allowed")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.refuse(node.func, f"a call of {name!r} is not allowed")
        if node.keywords:
            raise self.refuse(node, f"keyword arguments to {name} are not allowed")
        function, arities = FUNCTIONS[name]
        if len(node.args) not in arities:
            raise self.refuse(node, f"{name} takes {' or '.join(map(str, arities))} argument(s), "
                                    f"got {len(node.args)}")
        args = [self.build(a, depth + 1) for a in node.args]
        for a, arg in zip(node.args, args, strict=True):
            # sympy evaluates a function of a decimal at once (exp(Float) is a Float): refuse an
            # argument whose value would make that evaluation enormous
            if isinstance(arg, sp.Number) and not (arg.is_finite and abs(float(arg)) <= 1e6):
                raise self.refuse(a, f"the argument {arg} of {name} is out of range")
        result = function(*args)
        self.check_number(node, result)
        return result

    def check_power(self, node: ast.BinOp, base, exponent) -> None:
        if not isinstance(exponent, sp.Number):
            return
        if not exponent.is_finite or abs(float(exponent)) > MAX_EXPONENT:
            raise self.refuse(node, f"the exponent {exponent} exceeds {MAX_EXPONENT} in size")
        if isinstance(base, sp.Rational) and base != 0:
            digits = abs(float(exponent)) * max(_digits(base.p), _digits(base.q))
            if digits > MAX_DIGITS:
                raise self.refuse(node, f"a number of about {digits:.0f} digits (more than "
                                        f"{MAX_DIGITS})")

    def check_number(self, node: ast.AST, value) -> None:
        if isinstance(value, sp.Rational) and max(_digits(value.p), _digits(value.q)) > MAX_DIGITS:
            raise self.refuse(node, f"a number of more than {MAX_DIGITS} digits")
        if isinstance(value, sp.Float) and not math.isfinite(float(value)):
            raise self.refuse(node, "a number beyond the range of a double")


def _digits(n: int) -> int:
    """Decimal digits of |n| (from its bit length: no conversion of a huge integer to text)."""
    return int(abs(n).bit_length() * 0.30103) + 1


def _nesting(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def parse_equation(text: str, names, where: str = "") -> sp.Expr:
    """The sympy expression of ``text``, an equation over the declared ``names`` (column and
    constant names; each becomes ``sympy.Symbol(name)``), without evaluating any Python.

    ``where`` prefixes every message (e.g. ``"relation file f.json: "``). Raises
    :class:`UnsafeEquationError` (an :class:`~pipeline.errors.InputFileError` and a ValueError)
    naming the offending token for anything but numbers, declared names, arithmetic and the
    functions of :data:`FUNCTIONS`, and for a text too large, too deep or with too large a power.
    """
    builder = _Builder(text if isinstance(text, str) else "", {n: sp.Symbol(n) for n in names},
                       where)
    if not isinstance(text, str):
        raise builder.refuse(None, f"an equation must be text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise builder.refuse(None, f"{len(text)} characters, more than {MAX_CHARS} (not a found "
                                   "relation)")
    if _nesting(text) > MAX_DEPTH:
        raise builder.refuse(None, f"brackets nested more than {MAX_DEPTH} deep (not a found "
                                   "relation)")
    source = text.replace("^", "**").strip()
    builder.text = source
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        raise builder.refuse(None, f"not an expression ({detail})") from None
    n_nodes = sum(1 for _ in ast.walk(tree))
    if n_nodes > MAX_NODES:
        raise builder.refuse(None, f"{n_nodes} tree nodes, more than {MAX_NODES} (not a found "
                                   "relation)")
    return builder.build(tree)
