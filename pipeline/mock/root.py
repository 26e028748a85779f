"""The mock's data directory: the mock writes into ``data.root``, so it must never write into a
directory that holds something else (real simulations, another project's files).

A directory is the mock's when it is absent or empty (the mock then creates it), or holds the
marker file :data:`MARKER` that the ``mock_root`` rule writes first, or (mocks written before the
marker existed) the mock's truth table of the study's first simulation.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..io.atomic import atomic_path

__all__ = ["MARKER", "check_mock_root", "write_marker"]

MARKER = "README_mock.txt"


def check_mock_root(root: str | os.PathLike, first_truth_path: str | os.PathLike) -> None:
    """ConfigError naming ``data.root`` and a few of its entries if it holds files the mock did
    not write."""
    root = Path(root)
    if not root.exists():
        return
    if not root.is_dir():
        raise ConfigError(f"config key 'data.root': {root} is a file; data.kind: mock needs a "
                          "directory to write its simulations into")
    entries = sorted(e.name for e in root.iterdir())
    if not entries or MARKER in entries or Path(first_truth_path).exists():
        return
    shown = ", ".join(entries[:5]) + (f", ... ({len(entries)} entries)" if len(entries) > 5 else "")
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
