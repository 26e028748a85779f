"""Equations read from files are data: the whitelist parser, and hostile relation files refused at
load and at apply with no side effect."""

import json
import os
import subprocess
import time

import numpy as np
import pytest
import sympy as sp
from test_relation_file import EXPRESSION, TARGET, _halos

from pipeline.cli import main as cli_main
from pipeline.discovery.relation_file import load_relation, relation_record, write_relation
from pipeline.discovery.sr.expressions import parse_expression
from pipeline.errors import InputFileError
from pipeline.io.equations import MAX_CHARS, UnsafeEquationError, parse_equation

NAMES = ["c_gas", "Mstar_over_Mgas", "Z_mw200c", "log10_T_mw_ss", "_c0", "_c1"]

#: what the SR stage writes, what sympy prints, what the engines emit
LEGITIMATE = [
    "-380.88 + 5*((16875.5 - 3347.1*log10_T_mw_ss)*exp(-5/3*c_gas) + 0.2006)"
    "*(1192.5*c_gas - 0.560*Z_mw200c + 2/3*log10_T_mw_ss + 2)/(3*c_gas)",
    "c_gas/2 + log(1 + 2*Mstar_over_Mgas/(3*c_gas))/(148.123456789012345*Z_mw200c + 10*c_gas/3"
    " + sqrt(log(1 + 4*Mstar_over_Mgas/3)))",
    "E*c_gas**(-5/3) + pi - 1.0e-5*Abs(c_gas)**0.5 + 2.5e+3*tanh(Z_mw200c)",
    "_c0 + _c1*c_gas",
    "-(c_gas - 0.25)**2 + 1.00000000000000000001*Mstar_over_Mgas",
    "log(c_gas, 10) + exp(-0.6*c_gas + 0.0001*Z_mw200c)**3 + 1/c_gas",
    "-c_gas ^ 2",
]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_legitimate_equations_equal_sympify_atom_for_atom(text):
    """Same tree, same Float precisions: a relation applied from a file predicts bit for bit
    what the stage that wrote it computed."""
    ours = parse_equation(text, NAMES)
    theirs = sp.sympify(text, locals={n: sp.Symbol(n) for n in NAMES})
    assert sp.srepr(ours) == sp.srepr(theirs)
    assert {f._prec for f in ours.atoms(sp.Float)} == {f._prec for f in theirs.atoms(sp.Float)}


def test_engine_strings_map_engine_names_to_columns_simultaneously():
    # x1 is both an engine name and a column name: renaming must not chain
    expr = parse_expression("x0 + 2*x1 + log1p(x1) + square(x0) + aq(x0, x1)", ["x1", "x0"],
                            ["x0", "x1"])
    x1, x0 = sp.Symbol("x1"), sp.Symbol("x0")
    assert expr == x1 + 2 * x0 + sp.log(1 + x0) + x1**2 + x1 / sp.sqrt(1 + x0**2)


HOSTILE = {
    "import": "__import__('os').system('touch {sentinel}') + log10_T_mw_ss",
    "class_bases": "().__class__.__bases__[0].__subclasses__()",
    "lambda": "(lambda: __import__('os').system('touch {sentinel}'))()",
    "eval": "eval(\"__import__('os').system('touch {sentinel}')\")",
    "exec": "exec(\"open('{sentinel}', 'w')\")",
    "string": "'touch {sentinel}'",
    "subscript": "c_gas[0]",
    "undeclared": "open('{sentinel}', 'w')",
    "sympy_name": "Function('f')(c_gas) + Symbol('x')",
    "attribute": "c_gas.__class__",
    "keyword": "log(c_gas, base=2)",
    "huge_power": "10**10**10",
    "nested_power": "(10**100)**(10**2)**2",
    "huge_nodes": "+".join(["c_gas"] * 100_000),
    "deep_nesting": "(" * 1000 + "c_gas" + ")" * 1000,
    "deep_calls": "log(" * 150 + "c_gas" + ")" * 150,
    "overflowing_exp": "exp(exp(exp(1000.0)))",
}


@pytest.fixture
def genuine(tmp_path):
    halos = _halos(np.random.default_rng(3))
    sr_meta = {"features": ["Mstar_over_Mgas", "c_gas", "log10_T_mw_ss"], "chosen": EXPRESSION,
               "constants": [{"name": "c_0", "value": 17.4, "error": 0.01}],
               "constants_covariance": [[1e-4]]}
    halos["log10_T_mw_ss"] = np.linspace(5.0, 6.0, len(halos))
    record = relation_record(halos, TARGET, sr_meta, ["train_code"], [], study="planted")
    path = write_relation(record, tmp_path / "M_from_Y.json")
    halos.write(tmp_path / "halos.ecsv")
    return json.loads(path.read_text()), tmp_path / "halos.ecsv"


@pytest.fixture
def trap(monkeypatch, tmp_path, genuine):
    """A sentinel path no hostile payload may create, and a record of every process start (set
    after the genuine file is written: its provenance asks git for the commit)."""
    started = []

    def record(*args, **kwargs):
        started.append(args)
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(os, "system", record)
    monkeypatch.setattr(os, "popen", record)
    monkeypatch.setattr(subprocess.Popen, "__init__", record)
    return tmp_path / "SENTINEL", started


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_relation_file_is_refused_at_load_and_apply_with_no_side_effect(
        case, trap, genuine, tmp_path, capsys):
    sentinel, started = trap
    record, table = genuine
    record["equation"]["f"] = HOSTILE[case].format(sentinel=sentinel)
    path = tmp_path / f"hostile_{case}.json"
    path.write_text(json.dumps(record))
    t0 = time.perf_counter()
    with pytest.raises(InputFileError, match=rf"relation file .*hostile_{case}\.json: equation"):
        load_relation(path)
    assert time.perf_counter() - t0 < 5.0  # refused before any heavy work (a loose bound)
    out = tmp_path / f"applied_{case}.ecsv"
    assert cli_main(["apply", str(path), str(table), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"hostile_{case}.json" in err and "equation" in err
    assert not sentinel.exists() and not out.exists() and not started


def test_hostile_template_is_refused_too(trap, genuine, tmp_path):
    sentinel, started = trap
    record, _ = genuine
    record["equation"]["template"] = f"__import__('os').system('touch {sentinel}')"
    path = tmp_path / "template.json"
    path.write_text(json.dumps(record))
    with pytest.raises(InputFileError, match=r"template.json \(template\): equation .*a call of "
                                             r"attribute access is not allowed"):
        load_relation(path)
    assert not sentinel.exists() and not started


@pytest.mark.parametrize(("text", "message"), [
    ("__import__('os')", r"a call of '__import__' is not allowed \('__import__' at column 1\)"),
    ("c_gas + foo", r"the name 'foo' is not declared \(declared: .*c_gas.*\) \('foo' at column 9\)"),
    ("10**10**10", r"the exponent 10000000000 exceeds 100 in size"),
    ("c_gas.real", r"attribute access is not allowed \('c_gas.real' at column 1\)"),
    ("x" * (MAX_CHARS + 1), rf"{MAX_CHARS + 1} characters, more than {MAX_CHARS}"),
    ("c_gas +* (", r"not an expression"),
    ("log(c_gas, 2, 3)", r"log takes 1 or 2 argument\(s\), got 3"),
    ("exp", r"the function exp is used without a call"),
    ("True + c_gas", r"the literal True is not allowed"),
])
def test_messages_name_the_offending_token(text, message):
    with pytest.raises(UnsafeEquationError, match=message):
        parse_equation(text, NAMES, "f.json: ")


def test_inconsistent_relation_files_are_refused_at_load(genuine, tmp_path):
    record, _ = genuine
    cases = {
        # the equation reads a column the file does not describe
        "undescribed": ({"equation": {**record["equation"], "f": "c_gas + Z_mw200c",
                                      "features": [*record["equation"]["features"], "Z_mw200c"]}},
                        r"the equation reads \['Z_mw200c'\], which the file's columns do not "
                        r"describe"),
        "null_domain": ({"columns": [{**c, "domain": [None, None]} for c in record["columns"]]},
                        r"column 'log10_Y200c_ss' has domain \[None, None\]; expected \[min, max\], "
                        r"two finite numbers"),
        "inverted_domain": ({"columns": [{**c, "domain": [1.0, 0.0]} for c in record["columns"]]},
                            r"has domain \[1.0, 0.0\]; expected \[min, max\]"),
        "not_text": ({"equation": {**record["equation"], "f": 3}}, r"lacks or mangles"),
        "bad_feature_name": ({"equation": {**record["equation"], "features": ["a b"]}},
                             r"the name 'Mstar_over_Mgas' is not declared|equation.features holds"),
    }
    for name, (change, message) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({**record, **change}))
        with pytest.raises(InputFileError, match=message):
            load_relation(path)


def test_apply_asks_only_for_the_columns_the_equation_reads(genuine, tmp_path):
    """log10_T_mw_ss was offered to the search but the equation does not read it."""
    record, table = genuine
    path = tmp_path / "relation.json"
    path.write_text(json.dumps(record))
    relation = load_relation(path)
    assert "log10_T_mw_ss" in relation.equation_features
    assert [s.name for s in relation.reads] == ["log10_Y200c_ss", "Mstar_over_Mgas", "c_gas"]
    from astropy.table import Table

    halos = Table.read(table)
    full = relation.predict(halos)
    halos.remove_column("log10_T_mw_ss")
    assert np.array_equal(relation.predict(halos), full)
