"""The one source of every option's default: ``schemas/config.schema.yaml``.

The configuration check fills a study's missing keys from the schema (:mod:`pipeline.config`),
and each stage's typed options take their field defaults from the same entries through
:func:`schema_defaults`, so that a stage called from Python (tests, notebooks, benchmarks) runs
with the defaults a study gets. A shared module of the lowest floors: it reads a file and
imports no other part of the pipeline.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SCHEMA_PATH", "SCHEMA", "config_schema", "section_defaults", "schema_defaults",
           "config_reference_markdown"]

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


@functools.cache
def _schema() -> dict:
    # libyaml's parser where PyYAML has it: the pure-Python one takes ~60 ms for the schema, in
    # every job
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SCHEMA_PATH.read_text(), Loader=loader)  # noqa: S506 - a safe loader


def config_schema() -> dict:
    """The study schema (a copy: callers may not change the cached one)."""
    return copy.deepcopy(_schema())


def _section(path: tuple[str, ...]) -> dict:
    node = _schema()
    for key in path:
        node = node["properties"][key]
    return node


def section_defaults(*path: str) -> dict:
    """``{key: default}`` of the schema object at ``path`` (e.g. ``("sr",)``, ``("ingest",
    "environment")``; empty path: the top level), for the keys that have one."""
    props = _section(path).get("properties", {})
    return {k: copy.deepcopy(v["default"]) for k, v in props.items() if "default" in v}


class _SchemaDefault:
    """The placeholder default of an option field: :func:`schema_defaults` puts the schema's
    default in its place. Written ``field: int = SCHEMA``, the field has a default a type
    checker sees, and the value is stated once, in the schema."""

    def __repr__(self) -> str:
        return "SCHEMA"


#: the default of an option field that the schema holds (typed Any: it stands for any value)
SCHEMA: Any = _SchemaDefault()


def schema_defaults(*path: str, **elsewhere: tuple[str, ...]):
    """Class decorator, applied under ``@dataclass``: every annotated field whose default is
    :data:`SCHEMA` (or that has none) takes the schema's default of the key of the same name in
    the object at ``path`` (``elsewhere``: field -> the full key path, for a field whose key
    lives in another section). A list default becomes a tuple for a ``tuple`` annotation;
    otherwise lists (and mappings) are given through a default factory. A field with no default
    in the class nor the schema is an error (at import: a schema edit that drops one is
    caught)."""

    def apply(cls):
        # which section the class reads (pipeline.study_record.Study.options builds it from there)
        cls.__schema_section__ = (path, dict(elsewhere))
        defaults = section_defaults(*path)
        for name, where in elsewhere.items():
            parent, key = where[:-1], where[-1]
            defaults[name] = section_defaults(*parent)[key]
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name in cls.__dict__ and cls.__dict__[name] is not SCHEMA:
                continue  # a default of the class's own: not an option of the study file
            if name not in defaults:
                raise TypeError(f"{cls.__name__}.{name}: no default in the class and none for "
                                f"'{'.'.join(path + (name,))}' in {SCHEMA_PATH.name}")
            value = defaults[name]
            if isinstance(value, list) and str(annotation).startswith("tuple"):
                value = tuple(value)
            if isinstance(value, list | dict):
                value = dataclasses.field(default_factory=functools.partial(copy.deepcopy, value))
            setattr(cls, name, value)
        return cls

    return apply


def _type_text(node: dict) -> str:
    """A short type for the reference: ``integer >= 1``, ``one of: a, b``, ``list of string``."""
    if "$ref" in node:
        node = {**_schema()["$defs"][node["$ref"].split("/")[-1]], **node}
    if "enum" in node:
        return "one of: " + ", ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type", "")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        items = node.get("items", {})
        inner = (" or ".join(o.get("type", "") for o in items["oneOf"]) if "oneOf" in items
                 else _type_text(items) if items else "")
        kind = f"list of {inner}" if inner else "list"
    elif kind == "object" and isinstance(node.get("additionalProperties"), dict):
        kind = f"mapping name -> {_type_text(node['additionalProperties']) or 'value'}"
    bounds = [f"{op} {node[key]}" for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                 ("maximum", "<="), ("exclusiveMaximum", "<"))
              if key in node]
    return " ".join([kind, ", ".join(bounds)]).strip() if kind else ", ".join(bounds)


def _reference_rows(node: dict, prefix: str, required: set[str]) -> list[str]:
    rows = []
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}{key}"
        if "$ref" in sub:
            sub = {**_schema()["$defs"][sub["$ref"].split("/")[-1]], **sub}
        default = ("(required)" if key in required
                   else f"`{json.dumps(sub['default'])}`" if "default" in sub else "-")
        text = (" ".join(str(sub.get("description", "")).split()).replace("|", "\\|")
                .replace("<", "&lt;"))
        rows.append(f"| `{path}` | {_type_text(sub).replace('|', '/')} | {default} | {text} |")
        if sub.get("properties"):
            rows += _reference_rows(sub, f"{path}.", set(sub.get("required", [])))
        extra = sub.get("additionalProperties")
        if isinstance(extra, dict) and extra.get("properties"):
            rows += _reference_rows(extra, f"{path}.<name>.", set(extra.get("required", [])))
        items = sub.get("items")
        if sub.get("type") == "array" and isinstance(items, dict) and items.get("properties"):
            rows += _reference_rows(items, f"{path}[].", set(items.get("required", [])))
    return rows


def config_reference_markdown() -> str:
    """Every key of the study configuration (type, default, description) as Markdown tables, one
    per top-level section, generated from the schema (the documentation's configuration
    reference: ``python -m pipeline.defaults``)."""
    schema = _schema()
    out = ["# Configuration reference", "",
           f"Generated from `pipeline/schemas/{SCHEMA_PATH.name}` (the one source of every "
           "default). " + " ".join(schema.get("description", "").split()), ""]
    header = ["| key | type | default | description |", "|---|---|---|---|"]
    required = set(schema.get("required", []))
    top_level = [k for k, v in schema["properties"].items() if not v.get("properties")
                 and not isinstance(v.get("additionalProperties"), dict)]
    out += ["## Top level", "", *header,
            *_reference_rows({"properties": {k: schema["properties"][k] for k in top_level}}, "",
                             required), ""]
    for key, sub in schema["properties"].items():
        if key in top_level:
            continue
        out += [f"## `{key}`", "", *header,
                *_reference_rows({"properties": {key: sub}}, "", required), ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(config_reference_markdown())
