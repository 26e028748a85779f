"""Stage tables: astropy Tables with units and metadata, in HDF5 (bulk) or ECSV (small, readable)."""

from __future__ import annotations

import os
from pathlib import Path

from astropy.table import Table

from ..errors import InputFileError
from .atomic import atomic_path
from .yaml_header import libyaml_headers

__all__ = ["write_table", "write_tables", "read_table", "TABLE_KEY", "PROFILES_KEY"]

#: the HDF5 path of a file's (main) table
TABLE_KEY = "table"
#: the HDF5 path of a snapshot's stacked radial profiles in its ingest file, beside its haloes
PROFILES_KEY = "radial_profiles"


def write_table(table: Table, path: str | os.PathLike) -> Path:
    """Write ``table`` atomically; the format follows the suffix (``.h5`` or ``.ecsv``)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix in (".h5", ".hdf5"):
            table.write(tmp, path=TABLE_KEY, format="hdf5", serialize_meta=True)
        elif path.suffix == ".ecsv":
            table.write(tmp, format="ascii.ecsv")
        else:
            raise ValueError(f"unsupported table suffix {path.suffix!r} for {path}: use .h5 or .ecsv")
    return path


def write_tables(tables: dict[str, Table], path: str | os.PathLike) -> Path:
    """Write several tables into one HDF5 file atomically, each under its key (the first is
    usually :data:`TABLE_KEY`, what :func:`read_table` reads by default): a job's outputs as one
    file, written whole or not at all."""
    path = Path(path)
    if path.suffix not in (".h5", ".hdf5"):
        raise ValueError(f"several tables need an HDF5 file (.h5), not {path}")
    with atomic_path(path) as tmp:
        for i, (key, table) in enumerate(tables.items()):
            table.write(tmp, path=key, format="hdf5", serialize_meta=True, append=i > 0)
    return path


def read_table(path: str | os.PathLike, required: list[str] | None = None,
               key: str = TABLE_KEY) -> Table:
    """Read a table written by :func:`write_table` (or the one under ``key`` of an HDF5 file
    :func:`write_tables` wrote); check that ``required`` columns exist."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"table file {path} does not exist")
    try:
        with libyaml_headers():  # the header's YAML is most of reading a stage table
            if path.suffix in (".h5", ".hdf5"):
                table = Table.read(path, path=key, format="hdf5")
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
