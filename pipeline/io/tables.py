"""Stage tables: astropy Tables with units and metadata, in HDF5 (bulk) or ECSV (small, readable)."""

from __future__ import annotations

import os
from pathlib import Path

from astropy.table import Table

from ..errors import InputFileError
from .atomic import atomic_path

__all__ = ["write_table", "read_table"]

_HDF5_KEY = "table"


def write_table(table: Table, path: str | os.PathLike) -> Path:
    """Write ``table`` atomically; the format follows the suffix (``.h5`` or ``.ecsv``)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix in (".h5", ".hdf5"):
            table.write(tmp, path=_HDF5_KEY, format="hdf5", serialize_meta=True)
        elif path.suffix == ".ecsv":
            table.write(tmp, format="ascii.ecsv")
        else:
            raise ValueError(f"unsupported table suffix {path.suffix!r} for {path}: use .h5 or .ecsv")
    return path


def read_table(path: str | os.PathLike, required: list[str] | None = None) -> Table:
    """Read a table written by :func:`write_table`; check that ``required`` columns exist."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"table file {path} does not exist")
    try:
        if path.suffix in (".h5", ".hdf5"):
            table = Table.read(path, path=_HDF5_KEY, format="hdf5")
        else:
            table = Table.read(path, format="ascii.ecsv")
    except (OSError, ValueError, KeyError) as exc:
        raise InputFileError(f"cannot read table {path}: {exc}") from exc
    table.convert_bytestring_to_unicode()  # HDF5 stores strings as bytes
    missing = [c for c in (required or []) if c not in table.colnames]
    if missing:
        raise InputFileError(
            f"table {path} lacks column(s) {missing}; it has {table.colnames}"
        )
    return table
