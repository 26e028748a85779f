"""The mock's data directory: one folder per mock configuration, under ``data.root``.

Studies that want different mocks (other suites, simulation lists, seeds or options) must never
regenerate each other's inputs: the mock writes into ``<data.root>/<key>``, where the key hashes
everything its files depend on (:func:`mock_key`), as the stacks cache is keyed by what it reads.
Two studies with the same mock share its files.

The mock must never write into a directory that holds something else (real simulations, another
project's files): ``data.root`` is the mock's when it is absent or empty, or holds only mock
folders (each with the marker file :data:`MARKER` that the ``mock_root`` rule writes first), or
is a mock written before the key existed (the marker at its top).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import ConfigError
from ..io.atomic import atomic_path

__all__ = ["MARKER", "check_mock_root", "mock_key", "write_marker"]

MARKER = "README_mock.txt"


def mock_key(mock: dict, sets: dict[str, list[str]]) -> str:
    """12 hex digits naming a mock: a hash of the ``mock`` options (seed, parameter ranges,
    redshifts, particle and halo settings) and of the simulations of each set the mock writes
    (``'suite/volume/set' -> [sims]``: the Latin hypercube of a set depends on its length)."""
    text = json.dumps({"mock": mock, "sets": sets}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def check_mock_root(root: str | os.PathLike, key: str = "") -> None:
    """ConfigError naming ``data.root`` and a few of its entries if it holds files the mock did
    not write (``key``: this study's mock folder, which may be there without its marker yet)."""
    root = Path(root)
    if not root.exists():
        return
    if not root.is_dir():
        raise ConfigError(f"config key 'data.root': {root} is a file; data.kind: mock needs a "
                          "directory to write its simulations into")
    entries = sorted(root.iterdir())
    if MARKER in {e.name for e in entries}:
        return  # a mock written before the key existed
    foreign = [e.name for e in entries
               if not (e.is_dir() and (e.name == key or (e / MARKER).exists()))]
    if not foreign:
        return
    shown = ", ".join(foreign[:5]) + (f", ... ({len(foreign)} entries)" if len(foreign) > 5 else "")
    raise ConfigError(
        f"config key 'data.root': {root} holds files the mock did not write ({shown}), and "
        f"data.kind: mock would write its simulations into it. Point data.root at an empty or new "
        f"directory (the default is data/mock), or set data.kind: camels to read what is there.")


def write_marker(path: str | os.PathLike, seed: int) -> None:
    """The marker that makes a directory the mock's (atomically)."""
    text = ("This directory was written by the embedded mock of scaling-relations-pipeline "
            f"(mock.seed = {seed}): synthetic CAMELS-like simulations, not real data.\n"
            "Delete it to regenerate; the pipeline writes nothing else here.\n")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
