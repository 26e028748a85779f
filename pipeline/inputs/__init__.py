"""The input kinds: how a study reads its rows, each behind one interface.

A study's rows come from one of these kinds (the key ``data.input``, or ``data.kind: stacks``):

* ``particles`` (:mod:`.particles`): haloes measured from particle snapshots and group catalogs
  (``pipeline/ingest/particles.py``);
* ``catalog`` (:mod:`.catalog`): subhalo or FoF-group rows read from the group catalogs alone
  (``pipeline/ingest/catalog.py``);
* ``stacks`` (:mod:`.stacks`): stacked gas profiles, one row per stack
  (``pipeline/ingest/stacks.py``).

Each kind is an :class:`InputKind` record in its own module: what it lists, which rule file
plans and runs its ingest (``pipeline/rules/inputs/<name>.smk``), which sections of the study it
reads, which columns its rows carry, where its simulations' parameters are, and the report
template that says what it is (``pipeline/report/templates/inputs/<name>.typ``). The
configuration check, the rule files and the report ask the record, never the kind's name. A new
kind is a module here, its rule file and its template, and one line in :data:`INPUT_KINDS`.

The embedded mock is a source of files, not a way of reading them (``data.kind: mock``): it
writes the CAMELS files that the particles and catalog kinds read.

A shared module (floor 2.5: above the column registry, below the configuration check): it
imports the file formats and the registry, never a stage.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..defaults import section_defaults
from .catalog import CATALOG
from .kind import InputKind
from .particles import PARTICLES
from .stacks import STACKS

__all__ = ["InputKind", "INPUT_KINDS", "input_kind", "KIND_SECTIONS", "DATA_KIND_KEYS"]

#: every input kind, by name (the one registration of a kind)
INPUT_KINDS: dict[str, InputKind] = {kind.name: kind for kind in (PARTICLES, CATALOG, STACKS)}
#: the study sections that only some kinds read (``ingest``, ``catalog``, ...)
KIND_SECTIONS = frozenset().union(*(kind.sections for kind in INPUT_KINDS.values()))
#: the keys of ``data`` that only some kinds read (``input``, ``layout``)
DATA_KIND_KEYS = frozenset().union(*(kind.data_keys for kind in INPUT_KINDS.values()))


def input_kind(data: Mapping) -> InputKind:
    """The input kind of a study's ``data`` section: ``stacks`` for ``data.kind: stacks`` (its
    files are the stacks themselves), else the kind ``data.input`` names (default particles)."""
    name = ("stacks" if data.get("kind") == "stacks"
            else data.get("input", section_defaults("data")["input"]))
    try:
        return INPUT_KINDS[name]
    except KeyError:
        raise ValueError(f"no input kind {name!r}; known: {sorted(INPUT_KINDS)}") from None
