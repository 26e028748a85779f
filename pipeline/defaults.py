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
from pathlib import Path

import yaml

__all__ = ["SCHEMA_PATH", "config_schema", "section_defaults", "schema_defaults"]

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


@functools.cache
def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


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


def schema_defaults(*path: str, **elsewhere: tuple[str, ...]):
    """Class decorator, applied under ``@dataclass``: every annotated field that the class body
    leaves without a default takes the schema's default of the key of the same name in the
    object at ``path`` (``elsewhere``: field -> the full key path, for a field whose key lives
    in another section). A list default becomes a tuple for a ``tuple`` annotation; otherwise
    lists (and mappings) are given through a default factory. A field with no default in the
    class nor the schema is an error (at import: a schema edit that drops one is caught)."""

    def apply(cls):
        defaults = section_defaults(*path)
        for name, where in elsewhere.items():
            parent, key = where[:-1], where[-1]
            defaults[name] = section_defaults(*parent)[key]
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name in cls.__dict__:
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
