"""Writers of snapshots and group catalogs in the Gadget/Arepo HDF5 layout (used by the mock and
by test fixtures), optionally split into chunk files as large IllustrisTNG outputs are."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from .atomic import atomic_path
from .layout import chunk_paths

__all__ = ["write_snapshot", "write_group_catalog"]


def _split(n: int, n_files: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, n_files + 1).astype(np.int64)
    return list(zip(edges[:-1], edges[1:], strict=True))


def write_snapshot(
    path: str | os.PathLike,
    header: dict,
    particles: dict[int, dict[str, np.ndarray]],
    n_files: int = 1,
) -> list[Path]:
    """Write a snapshot; ``header`` holds BoxSize, Redshift, Time, HubbleParam, Omega0,
    OmegaLambda, OmegaBaryon, MassTable; ``particles[ptype][field]`` the datasets (code units).

    NumPart_* and NumFilesPerSnapshot are filled in. Returns the written file paths.
    """
    path = Path(path)
    totals = np.zeros(6, dtype=np.int64)
    for ptype, fields in particles.items():
        lengths = {len(v) for v in fields.values()}
        if len(lengths) != 1:
            raise ValueError(f"PartType{ptype} fields have different lengths {lengths}")
        totals[ptype] = lengths.pop()
    written = []
    for i, chunk_path in enumerate(chunk_paths(path, n_files)):
        this_file = np.zeros(6, dtype=np.int32)
        with atomic_path(chunk_path) as tmp, h5py.File(tmp, "w") as fh:
            hdr = fh.create_group("Header")
            for key, value in header.items():
                hdr.attrs[key] = value
            hdr.attrs["NumPart_Total"] = (totals & 0xFFFFFFFF).astype(np.uint32)
            hdr.attrs["NumPart_Total_HighWord"] = (totals >> 32).astype(np.uint32)
            hdr.attrs["NumFilesPerSnapshot"] = np.int32(n_files)
            for ptype, fields in particles.items():
                lo, hi = _split(int(totals[ptype]), n_files)[i]
                this_file[ptype] = hi - lo
                if hi == lo:
                    continue
                grp = fh.create_group(f"PartType{ptype}")
                for field, values in fields.items():
                    grp.create_dataset(field, data=values[lo:hi])
            hdr.attrs["NumPart_ThisFile"] = this_file
        written.append(chunk_path)
    return written


def write_group_catalog(
    path: str | os.PathLike,
    header: dict,
    groups: dict[str, np.ndarray],
    subhalos: dict[str, np.ndarray],
    n_files: int = 1,
) -> list[Path]:
    """Write a Subfind catalog (``Group/*``, ``Subhalo/*``, Header counts filled in)."""
    path = Path(path)
    n_groups = len(next(iter(groups.values()))) if groups else 0
    n_subs = len(next(iter(subhalos.values()))) if subhalos else 0
    written = []
    for i, chunk_path in enumerate(chunk_paths(path, n_files)):
        glo, ghi = _split(n_groups, n_files)[i]
        slo, shi = _split(n_subs, n_files)[i]
        with atomic_path(chunk_path) as tmp, h5py.File(tmp, "w") as fh:
            hdr = fh.create_group("Header")
            for key, value in header.items():
                hdr.attrs[key] = value
            hdr.attrs["Ngroups_ThisFile"] = np.int32(ghi - glo)
            hdr.attrs["Ngroups_Total"] = np.int32(n_groups)
            hdr.attrs["Nsubgroups_ThisFile"] = np.int32(shi - slo)
            hdr.attrs["Nsubgroups_Total"] = np.int32(n_subs)
            hdr.attrs["NumFiles"] = np.int32(n_files)
            g = fh.create_group("Group")
            for field, values in groups.items():
                g.create_dataset(field, data=values[glo:ghi])
            s = fh.create_group("Subhalo")
            for field, values in subhalos.items():
                s.create_dataset(field, data=values[slo:shi])
        written.append(chunk_path)
    return written
