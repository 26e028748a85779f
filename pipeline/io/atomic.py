"""Atomic file writing: a killed job never leaves a file that looks complete, and its scraps go
when the job that owns them runs again.

Temporary names are ``.<output name>.<random>.tmp<suffix>`` (files) and
``.<output name>.<random>.tmpdir`` (scratch directories), beside the output. A job killed with
SIGKILL cannot remove them; the next writer of the same output does (Snakemake runs one job per
output at a time, so a temporary of that name is a dead job's).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "scratch_dir", "remove_stale_temporaries"]

log = logging.getLogger(__name__)
#: what follows ``.<name>.`` in this module's temporaries: mkstemp's random part (no dot), then
#: ``.tmp`` with the output's suffix, or ``.tmpdir``
_OWN_REST = re.compile(r"^[A-Za-z0-9_]+\.tmp(dir|\.[^.]*)?$")
#: scratch directories open in this process (a writer's own, not stale)
_OPEN_SCRATCH: set[Path] = set()


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files (``.<name>.*.tmp*``) and scratch directories
    (``.<name>.*.tmpdir``) this module left beside ``path`` in an earlier, killed run (not the
    scratch directories this process has open); return what was removed."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    removed = []
    prefix = f".{path.name}."
    for name in glob.glob(os.path.join(glob.escape(str(path.parent)), f"{glob.escape(prefix)}*.tmp*")):
        stale = Path(name)
        if not _OWN_REST.match(stale.name[len(prefix):]):  # e.g. a temporary of '<name>.x'
            continue
        if stale.is_dir():
            if not stale.name.endswith(".tmpdir") or stale.resolve() in _OPEN_SCRATCH:
                continue
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        removed.append(stale)
    if removed:
        log.info("removed %d temporary file(s) of an interrupted earlier run beside %s: %s",
                 len(removed), path, [p.name for p in removed[:3]])
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary file lives in the same directory (same file system, so ``os.replace`` is
    atomic) and carries a ``.tmp`` marker; on any exception it is removed, and the temporaries of
    ``path`` left by a killed earlier run are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as h5py and astropy want to create the file themselves
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"writer produced no file at {tmp} for {path}")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def scratch_dir(path: str | os.PathLike) -> Iterator[Path]:
    """A scratch directory beside the output ``path`` (for intermediate files of its writer),
    removed on exit; one left by a killed earlier run is removed on entry."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmpdir", dir=path.parent))
    _OPEN_SCRATCH.add(work.resolve())
    try:
        yield work
    finally:
        _OPEN_SCRATCH.discard(work.resolve())
        shutil.rmtree(work, ignore_errors=True)
