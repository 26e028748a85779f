"""Opening HDF5 files with errors that name the file and key."""

from __future__ import annotations

import os

import h5py

from ..errors import InputFileError

__all__ = ["open_hdf5", "require_dataset", "require_attrs"]


def open_hdf5(path: str | os.PathLike) -> h5py.File:
    """Open ``path`` read-only; a missing, truncated or non-HDF5 file raises InputFileError."""
    if not os.path.exists(path):
        raise InputFileError(f"HDF5 file {path} does not exist")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputFileError(
            f"cannot open HDF5 file {path} (truncated or not HDF5?): {exc}"
        ) from exc


def require_dataset(fh: h5py.File, key: str, purpose: str = "") -> h5py.Dataset:
    """Return dataset ``key`` of ``fh`` or raise InputFileError naming the file and the key."""
    obj = fh.get(key)
    if not isinstance(obj, h5py.Dataset):
        why = f" (needed for {purpose})" if purpose else ""
        raise InputFileError(f"file {fh.filename} has no dataset '{key}'{why}")
    return obj


def require_attrs(fh: h5py.File, group: str, names: list[str]) -> dict:
    """Read attributes ``names`` of ``group``; a missing one raises InputFileError."""
    if group not in fh:
        raise InputFileError(f"file {fh.filename} has no group '{group}'")
    attrs = fh[group].attrs
    missing = [n for n in names if n not in attrs]
    if missing:
        raise InputFileError(f"file {fh.filename}: '{group}' lacks attribute(s) {missing}")
    return {n: attrs[n] for n in names}
