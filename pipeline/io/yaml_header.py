"""Astropy's serialized table headers (HDF5 ``__table_column_meta__``, the ECSV header) parsed
with libyaml.

Astropy parses them with PyYAML's pure-Python loader: for a stage table (~4 kB of column
descriptions, units and provenance) that is three quarters of reading it, which ``assemble``
does for every snapshot of a study (thousands at CAMELS LH size). :func:`libyaml_headers` swaps
in the same loader built on libyaml's parser (the same constructors: astropy's units, tuples,
ordered mappings) while a table is read; it gives the same header, and changes nothing where
PyYAML was built without libyaml.
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import yaml
from astropy.table import meta as table_meta

__all__ = ["header_from_yaml", "libyaml_headers", "HAS_LIBYAML"]

HAS_LIBYAML = hasattr(yaml, "CSafeLoader")
#: astropy's own parser, put back after each read
_ASTROPY_HEADER_FROM_YAML = table_meta.get_header_from_yaml
# one swap at a time: table reads in threads take turns (they are bound by the GIL anyway)
_swap_lock = threading.RLock()


def _construct_omap(loader, node) -> Iterator[OrderedDict]:
    """``!!omap`` (a sequence of one-pair mappings) as an OrderedDict, as astropy reads it."""
    omap: OrderedDict = OrderedDict()
    yield omap
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(
            "while constructing an ordered map", node.start_mark,
            f"expected a sequence, but found {node.id}", node.start_mark)
    for pair in node.value:
        if not isinstance(pair, yaml.MappingNode) or len(pair.value) != 1:
            raise yaml.constructor.ConstructorError(
                "while constructing an ordered map", node.start_mark,
                "expected a mapping of length 1", pair.start_mark)
        key_node, value_node = pair.value[0]
        omap[loader.construct_object(key_node)] = loader.construct_object(value_node)


@functools.cache
def _loader_with(n_constructors: int, n_multi_constructors: int) -> type:
    # keyed on the number of astropy's constructors: a package that registers one later (astropy
    # does so for cosmologies on first use) gets a loader that knows it
    from astropy.io.misc.yaml import AstropyLoader

    class LibyamlTableLoader(yaml.CSafeLoader):
        """libyaml's parser with astropy's constructors (units, tuples, ...) and ``!!omap``."""

    LibyamlTableLoader.yaml_constructors = {**yaml.CSafeLoader.yaml_constructors,
                                            **AstropyLoader.yaml_constructors}
    LibyamlTableLoader.yaml_multi_constructors = {**yaml.CSafeLoader.yaml_multi_constructors,
                                                  **AstropyLoader.yaml_multi_constructors}
    LibyamlTableLoader.add_constructor("tag:yaml.org,2002:omap", _construct_omap)
    return LibyamlTableLoader


def _loader() -> type:
    from astropy.io.misc.yaml import AstropyLoader

    return _loader_with(len(AstropyLoader.yaml_constructors),
                        len(AstropyLoader.yaml_multi_constructors))


def header_from_yaml(lines: Iterable[str]) -> dict:
    """The header dict of astropy's :func:`astropy.table.meta.get_header_from_yaml` for the
    same ``lines``, parsed by libyaml (by astropy's own function without it)."""
    if not HAS_LIBYAML:
        return _ASTROPY_HEADER_FROM_YAML(lines)
    lines = list(lines)
    # PyYAML skips a directive it does not know (ECSV's first line, ``%ECSV 1.0``); libyaml
    # refuses it
    while lines and lines[0].lstrip().startswith("%") and \
            not lines[0].lstrip().startswith(("%YAML", "%TAG")):
        lines = lines[1:]
    text = textwrap.dedent("\n".join(lines))
    try:
        return yaml.load(text, Loader=_loader())
    except Exception as err:
        raise table_meta.YamlParseError() from err


@contextlib.contextmanager
def libyaml_headers() -> Iterator[None]:
    """While inside, astropy's table readers parse headers with :func:`header_from_yaml`."""
    if not HAS_LIBYAML:
        yield
        return
    with _swap_lock:
        table_meta.get_header_from_yaml = header_from_yaml
        try:
            yield
        finally:
            table_meta.get_header_from_yaml = _ASTROPY_HEADER_FROM_YAML
