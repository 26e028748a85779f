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
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import yaml
from astropy.table import meta as table_meta

__all__ = ["header_from_yaml", "libyaml_headers", "HAS_LIBYAML"]

HAS_LIBYAML = hasattr(yaml, "CSafeLoader")
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


def _loader() -> type | None:
    if not HAS_LIBYAML:
        return None
    from astropy.io.misc.yaml import AstropyLoader

    class LibyamlTableLoader(yaml.CSafeLoader):
        """libyaml's parser with astropy's constructors (units, tuples, ...) and ``!!omap``."""

    LibyamlTableLoader.yaml_constructors = {**yaml.CSafeLoader.yaml_constructors,
                                            **AstropyLoader.yaml_constructors}
    LibyamlTableLoader.add_constructor("tag:yaml.org,2002:omap", _construct_omap)
    return LibyamlTableLoader


_LOADER = _loader()


def header_from_yaml(lines: Iterable[str]) -> dict:
    """The header dict of astropy's :func:`astropy.table.meta.get_header_from_yaml` for the
    same ``lines``, parsed by libyaml (by astropy's own function without it)."""
    if _LOADER is None:
        return _ASTROPY_HEADER_FROM_YAML(lines)
    lines = list(lines)
    # PyYAML skips a directive it does not know (ECSV's first line, ``%ECSV 1.0``); libyaml
    # refuses it
    while lines and lines[0].lstrip().startswith("%") and \
            not lines[0].lstrip().startswith(("%YAML", "%TAG")):
        lines = lines[1:]
    text = textwrap.dedent("\n".join(lines))
    try:
        return yaml.load(text, Loader=_LOADER)
    except Exception as err:
        raise table_meta.YamlParseError() from err


_ASTROPY_HEADER_FROM_YAML = table_meta.get_header_from_yaml


@contextlib.contextmanager
def libyaml_headers() -> Iterator[None]:
    """While inside, astropy's table readers parse headers with :func:`header_from_yaml`."""
    if _LOADER is None:
        yield
        return
    with _swap_lock:
        table_meta.get_header_from_yaml = header_from_yaml
        try:
            yield
        finally:
            table_meta.get_header_from_yaml = _ASTROPY_HEADER_FROM_YAML
