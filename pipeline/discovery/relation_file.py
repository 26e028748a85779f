"""A discovered relation as a file others can apply: ``reports/<study>/relations/<target>.json``.

The file is self-contained JSON (format :data:`FORMAT`): the target (``y = slope x + f``), the
chosen equation ``f`` (sympy text, as the evaluate stage applies it) with its template and
constants (values, 1-sigma errors, covariance), every column the equation reads with its unit,
definition, the registry columns it is computed from and its range over the training haloes (the
training domain), the self-similar baseline fitted on the same haloes, and the provenance.

:func:`load_relation` reads it back as a :class:`RelationFile`, whose ``predict`` is the evaluate
stage's own discovered relation (:func:`pipeline.discovery.relations.discovered_relation`): applied
to the study's held-out haloes it gives the evaluate stage's predictions bit for bit.

A relation file is data, never code: its equation (and template) are parsed by a whitelist
parser (:func:`pipeline.io.equations.parse_equation`: numbers, the file's declared columns and
constants, arithmetic and a fixed set of functions), so applying a file received from someone else
runs nothing it contains. :func:`load_relation` refuses, naming the file and what is wrong, an
equation with anything else in it, one too large or too deep to be a found relation, an equation
that reads a name the file does not describe, and a column without a finite training domain.

Units: a column of the table the relation is applied to may carry an astropy unit. A dimensioned
column is converted to the relation's unit (an error names the column when it cannot be); a
logarithmic column (unit "" in the file, ``log10_unit`` set) may come as ``dex(<unit>)``; a
dimensionless column must have no unit. A column without a unit (a plain array) is taken to be in
the relation's units.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp
from astropy import units as u
from astropy.table import Table

from ..columns import Column, computed_from
from ..columns.symbols import LATEX_SYMBOLS
from ..errors import DataError, InputFileError
from ..io.atomic import atomic_path
from ..io.equations import parse_equation
from ..provenance import provenance
from .dataset import Target, baseline_intercept, rows_of_samples, simulation_ids
from .relations import discovered_relation
from .sr.record import SRMeta

__all__ = ["FORMAT", "FeatureSpec", "RelationFile", "relation_record", "write_relation",
           "load_relation"]

#: the format name and version written in every relation file
FORMAT = "scaling-pipeline-relation/1"


@dataclass(frozen=True)
class FeatureSpec:
    """One column the relation reads: ``unit`` (astropy string, "" dimensionless), ``log10_unit``
    (for a log10 column: the unit inside the logarithm, e.g. "solMass"), ``definition``,
    ``computed_from`` (registry columns, the transform's inputs), ``symbol`` (LaTeX) and
    ``domain`` [min, max] over the training haloes."""

    name: str
    unit: str
    definition: str
    computed_from: tuple[str, ...]
    symbol: str
    domain: tuple[float, float]
    log10_unit: str = ""


@dataclass(frozen=True)
class RelationFile:
    """A relation read from its file: predicts log10 of ``target.y`` [dex] per row of a table
    (an astropy Table or a mapping of column name -> array)."""

    target: Target
    expression: str
    features: tuple[FeatureSpec, ...]  # the relation's x first, then the equation's features
    equation_features: tuple[str, ...]
    constants: tuple[dict, ...] = ()
    covariance: tuple[tuple[float, ...], ...] = ()
    template: str = ""
    latex: str = ""
    baseline_intercept: float = math.nan
    training: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    path: str = ""

    @functools.cached_property
    def equation(self) -> sp.Expr:
        """The equation f as a sympy expression (parsed as data, never evaluated as code)."""
        return parse_equation(self.expression, self.equation_features, self._where)

    @property
    def _where(self) -> str:
        return f"relation file {self.path}: " if self.path else ""

    @property
    def reads(self) -> tuple[FeatureSpec, ...]:
        """The columns a prediction needs: the relation's x and the features the equation uses
        (a feature the search offered but the equation does not read is not asked for)."""
        used = {s.name for s in self.equation.free_symbols} | {self.target.x}
        return tuple(spec for spec in self.features if spec.name in used)

    @property
    def predicted_column(self) -> str:
        """Name of the prediction column :meth:`apply` adds (``log10_M200c_predicted``)."""
        return f"{self.target.y}_predicted"

    def columns(self, table) -> Table:
        """The columns the relation reads from ``table`` as plain floats in the relation's units
        (DataError naming a missing column, its definition and inputs, or a unit mismatch)."""
        names = _colnames(table)
        missing = [s for s in self.reads if s.name not in names]
        if missing:
            lines = [f"  {s.name} [{s.unit or 'dimensionless'}]: {s.definition} (computed from "
                     f"{', '.join(c for c in s.computed_from if c != s.name) or 'itself'})"
                     for s in missing]
            raise DataError(f"relation {self.path or self.target.name}: the table lacks "
                            f"{len(missing)} column(s) it needs; it has {sorted(names)}:\n"
                            + "\n".join(lines))
        columns = Table({s.name: _in_unit(table[s.name], s, self.path) for s in self.reads})
        for spec in self.reads:
            values = np.asarray(columns[spec.name])
            if len(values) and not np.isfinite(values).any():
                raise DataError(f"relation {self.path or self.target.name}: column {spec.name} has "
                                f"no finite value in its {len(values)} rows; the relation needs it "
                                f"({spec.definition})")
        return columns

    @functools.cached_property
    def _discovered(self):
        # parsing and lambdify once per loaded file, not per call
        return discovered_relation(self.target, self.equation, list(self.equation_features))

    def predict(self, table) -> np.ndarray:
        """log10 of the predicted ``target.y`` per row [dex] (NaN where a feature is NaN)."""
        return self._discovered.predict(self.columns(table))

    def outside_domain(self, table) -> np.ndarray:
        """Per row: a column the relation reads lies outside its training range (the evaluate
        stage's extrapolation flag)."""
        return self._outside(self.columns(table))

    def _outside(self, cols: Table) -> np.ndarray:
        out = np.zeros(len(cols), dtype=bool)
        for spec in self.reads:
            lo, hi = spec.domain
            v = np.asarray(cols[spec.name], dtype=float)
            out |= (v < lo) | (v > hi)
        return out

    def apply(self, table) -> Table:
        """``table`` (as a Table) with ``<y>_predicted`` [dex], ``outside_domain`` and, where the
        table has the true ``y``, ``<y>_residual`` = predicted - true [dex]."""
        cols = self.columns(table)  # checked and converted once
        out = Table(table, copy=True) if isinstance(table, Table) else Table(dict(table))
        out[self.predicted_column] = self._discovered.predict(cols)
        out["outside_domain"] = self._outside(cols)
        if self.target.y in out.colnames:
            truth = np.asarray(out[self.target.y], dtype=float)
            out[f"{self.target.y}_residual"] = out[self.predicted_column] - truth
        out.meta["relation"] = {"file": self.path, "format": FORMAT, "target": asdict(self.target),
                                "expression": self.expression}
        return out


def _colnames(table) -> list[str]:
    if isinstance(table, Table):
        return list(table.colnames)
    if isinstance(table, Mapping):
        return list(table.keys())
    raise TypeError(f"a relation applies to an astropy Table or a mapping of arrays, not "
                    f"{type(table).__name__}")


def _in_unit(column, spec: FeatureSpec, where: str) -> np.ndarray:
    """The column's values [spec.unit] as floats; DataError when its unit does not fit."""
    unit = getattr(column, "unit", None)
    where = f"relation {where}: " if where else ""
    values = _numeric(column.value if isinstance(column, u.Quantity) else column, spec.name, where)
    if unit is None or (unit == u.dimensionless_unscaled and not spec.unit):
        return np.asarray(values, dtype=float)
    if isinstance(unit, u.FunctionUnitBase):
        if not spec.log10_unit:
            raise DataError(f"{where}column {spec.name} has logarithmic unit {unit}; the relation "
                            f"expects {spec.unit or 'a dimensionless number'}: {spec.definition}")
        try:
            logarithmic = np.asarray(values, dtype=float) * unit
            return np.asarray(logarithmic.to_value(u.dex(u.Unit(spec.log10_unit))), dtype=float)
        except u.UnitConversionError as exc:
            raise DataError(f"{where}column {spec.name} in {unit} cannot be read as "
                            f"dex({spec.log10_unit}): {spec.definition}") from exc
    if not spec.unit:
        raise DataError(f"{where}column {spec.name} has unit {unit}; the relation expects a "
                        f"dimensionless number: {spec.definition}")
    try:
        return np.asarray((values * unit).to_value(u.Unit(spec.unit)), dtype=float)
    except u.UnitConversionError as exc:
        raise DataError(f"{where}column {spec.name} has unit {unit}, which does not convert to "
                        f"the relation's {spec.unit}: {spec.definition}") from exc


def _numeric(values: np.ndarray, name: str, where: str) -> np.ndarray:
    """``values`` as floats; DataError naming the column and the first row that is not a number
    (a masked entry counts as NaN)."""
    mask = np.ma.getmaskarray(values) if hasattr(values, "mask") else None
    data = np.asarray(values.data if mask is not None else values)
    if data.dtype.kind in "biuf":
        out = data.astype(float)
        if mask is not None:
            out[mask] = np.nan  # an empty CSV cell is missing, not the fill value
        return out
    out = np.empty(len(data))
    for row, value in enumerate(data):
        if mask is not None and mask[row]:
            out[row] = np.nan
            continue
        try:
            out[row] = float(value)
        except (TypeError, ValueError):
            raise DataError(f"{where}column {name} holds {str(value)!r} in row {row} (counting from "
                            "0); expected a number") from None
    return out


def _log10_unit(name: str, by_name: dict[str, Column], halos: Table) -> str:
    """The unit inside a log10 column's logarithm: that of its one dimensioned input ("" for a
    ratio of two, as log10(Mstar / Mgas))."""
    if not name.startswith("log10_") or name not in by_name:
        return ""
    units = set()
    for parent in by_name[name].inputs:
        unit = by_name[parent].unit if parent in by_name else ""
        if not unit and parent in halos.colnames and halos[parent].unit is not None:
            unit = str(halos[parent].unit)
        if unit:
            units.add(unit)
    n_dimensioned = sum(1 for p in by_name[name].inputs if p in by_name and by_name[p].unit)
    return units.pop() if len(units) == 1 and n_dimensioned == 1 else ""


def _feature_spec(name: str, halos: Table, train: Table, registry: list[Column]) -> FeatureSpec:
    by_name = {c.name: c for c in registry}
    column = by_name.get(name)
    unit = halos[name].unit if name in halos.colnames else None
    values = np.asarray(train[name], dtype=float)
    values = values[np.isfinite(values)]
    domain = (float(values.min()), float(values.max())) if values.size else (math.nan, math.nan)
    return FeatureSpec(
        name=name,
        unit=str(unit) if unit is not None else (column.unit if column else ""),
        definition=column.definition if column else "a column of the study's halo table",
        computed_from=tuple(sorted(computed_from(name, registry) - {name})),
        symbol=LATEX_SYMBOLS.get(name, name),
        domain=domain,
        log10_unit=_log10_unit(name, by_name, halos),
    )


def relation_record(halos: Table, target: Target, sr_meta: SRMeta | Mapping,
                    train_samples: list[str], registry: list[Column], study: str = "") -> dict:
    """The content of a relation file for the equation the SR stage chose (``sr_meta``: the SR
    table's metadata, :class:`~pipeline.discovery.sr.record.SRMeta`), its training domain and
    baseline from ``halos``' training samples."""
    meta = sr_meta if isinstance(sr_meta, SRMeta) else SRMeta.from_meta(sr_meta)
    features = list(meta.features)
    train = rows_of_samples(halos, train_samples)
    scored = (np.isfinite(np.asarray(train[target.y], dtype=float))
              & np.isfinite(np.asarray(train[target.x], dtype=float)))
    specs = [_feature_spec(n, halos, train, registry)
             for n in dict.fromkeys([target.x, *features])]
    y_spec = _feature_spec(target.y, halos, train, registry)
    return {
        "format": FORMAT,
        "study": study,
        "target": {**asdict(target), "y_unit": y_spec.unit, "y_log10_unit": y_spec.log10_unit,
                   "y_definition": y_spec.definition,
                   "form": f"{target.y} = {target.slope:g} * {target.x} + f(features)"},
        "equation": {
            "f": meta.chosen,
            "latex": meta.chosen_latex,
            "template": meta.chosen_template,
            "constants": [asdict(c) for c in meta.constants],
            "covariance": [list(row) for row in meta.constants_covariance],
            "constants_rule": meta.constants_rule,
            "choice_rule": meta.choice_rule,
            # whether the choice's own held-out data recommend it over the self-similar baseline
            "verdict": dict(meta.verdict),
            "features": features,
        },
        "columns": [asdict(s) for s in specs],
        "baseline": {"form": f"{target.y} = {target.slope:g} * {target.x} + b",
                     "intercept": baseline_intercept(train, target)},
        "training": {"samples": list(train_samples), "n_haloes": int(scored.sum()),
                     "n_simulations": int(len(set(simulation_ids(train[scored])))),
                     "domain_rule": "a row is outside the domain when a column the relation "
                                    "reads lies outside [min, max] of the training haloes"},
        "provenance": provenance("relation", {"study": study}, {}),
    }


def _json_safe(value):
    """NaN and infinities as null (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def write_relation(record: dict, path: str | os.PathLike) -> Path:
    """Write a :func:`relation_record` atomically as indented JSON."""
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(_json_safe(record), indent=2) + "\n")
    return path


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def _domain(column: dict, path: Path) -> tuple[float, float]:
    """A column's training domain [min, max]: two finite numbers, min <= max."""
    domain = column.get("domain")
    try:
        lo, hi = (float(v) for v in domain)  # type: ignore[union-attr]  # None: TypeError below
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise InputFileError(f"relation file {path}: column {column.get('name')!r} has domain "
                             f"{domain!r}; expected [min, max], two finite numbers with min <= max "
                             "(the range over the training haloes that flags extrapolation)")
    return lo, hi


def _check_consistent(relation: RelationFile, record: dict, path: Path) -> None:
    """Refuse at load what would fail or mislead at apply: an equation that is not data (parsed
    here, never evaluated), a name it reads that no column describes, an unsafe template."""
    equation = record["equation"]
    names = relation.equation_features
    bad = [n for n in names if not isinstance(n, str) or not n.isidentifier()]
    if bad:
        raise InputFileError(f"relation file {path}: equation.features holds {bad}; expected "
                             "column names (identifiers)")
    used = {s.name for s in relation.equation.free_symbols}
    described = {spec.name for spec in relation.features}
    lacking = sorted((used | {relation.target.x}) - described)
    if lacking:
        raise InputFileError(f"relation file {path}: the equation reads {lacking}, which the file's "
                             f"columns do not describe (described: {sorted(described)})")
    template = equation.get("template", "")
    if template:  # shown by the report and the docs: it must be data too
        constants = [f"_c{i}" for i in range(len(relation.constants))]
        parse_equation(str(template), [*names, *constants], f"relation file {path} (template): ")
    if not math.isfinite(relation.target.slope):
        raise InputFileError(f"relation file {path}: target.slope is {relation.target.slope}; "
                             "expected a finite number")


def load_relation(path: str | os.PathLike) -> RelationFile:
    """Read a relation file (InputFileError naming the file and what is wrong with it).

    The equation is parsed as data (:mod:`pipeline.io.equations`) and checked against the
    file's columns here, so a hostile or inconsistent file is refused before any table is read."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"relation file {path} does not exist")
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputFileError(f"relation file {path} is not readable JSON: {exc}") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        found = record.get("format") if isinstance(record, dict) else type(record).__name__
        raise InputFileError(f"relation file {path}: format {found!r}, expected {FORMAT!r}")
    try:
        target = record["target"]
        equation = record["equation"]
        if not isinstance(equation["f"], str):
            raise TypeError("equation.f is not text")
        specs = tuple(FeatureSpec(name=str(c["name"]), unit=str(c["unit"]),
                                  definition=str(c["definition"]),
                                  computed_from=tuple(c["computed_from"]), symbol=str(c["symbol"]),
                                  domain=_domain(c, path), log10_unit=str(c.get("log10_unit", "")))
                      for c in record["columns"])
        relation = RelationFile(
            target=Target(name=str(target["name"]), y=str(target["y"]), x=str(target["x"]),
                          slope=float(target["slope"]),
                          allow_truth_features=bool(target.get("allow_truth_features", False))),
            expression=equation["f"],
            features=specs,
            equation_features=tuple(equation["features"]),
            constants=tuple(equation.get("constants", ())),
            covariance=tuple(tuple(_nan(v) for v in row) for row in equation.get("covariance", ())),
            template=str(equation.get("template", "")),
            latex=str(equation.get("latex", "")),
            baseline_intercept=_nan(record.get("baseline", {}).get("intercept")),
            training=record.get("training", {}),
            provenance=record.get("provenance", {}),
            path=str(path),
        )
    except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
        raise InputFileError(f"relation file {path} lacks or mangles {exc}: expected the keys "
                             "target, equation (f, features), columns") from exc
    _check_consistent(relation, record, path)
    return relation
