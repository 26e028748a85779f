"""Readers of Gadget/Arepo HDF5 snapshots and Subfind group catalogs (CAMELS, IllustrisTNG).

Single files (``snapshot_090.hdf5``, ``snap_033.hdf5``) and chunked ones (``snap_099.0.hdf5``,
``snap_099.1.hdf5``, ...) are read by the same code; particles are streamed in chunks so that
memory stays bounded whatever the snapshot size. Values are returned in the code units of the
file (lengths ckpc/h, masses 1e10 Msun/h); :class:`SnapshotHeader` gives the conversions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u

from ..errors import InputFileError
from .hdf5 import open_hdf5, require_attrs, require_dataset
from .layout import chunk_of, chunk_path, chunk_paths
from .prefetch import buffers_behind, prefetch

__all__ = ["SnapshotHeader", "Snapshot", "GroupCatalog", "resolve_chunks", "GAS_METALLICITY_FIELDS"]

#: gas metallicity datasets, in the order they are looked for (IllustrisTNG/Astrid, SIMBA)
GAS_METALLICITY_FIELDS = ("GFM_Metallicity", "Metallicity")

_SNAP_HEADER_KEYS = [
    "BoxSize", "Redshift", "Time", "HubbleParam", "Omega0", "OmegaLambda", "MassTable",
    "NumPart_ThisFile", "NumPart_Total", "NumFilesPerSnapshot",
]


def resolve_chunks(path: str | os.PathLike, count_attr: str) -> list[Path]:
    """All files of a possibly chunked HDF5 output named by ``path``.

    ``path`` is the single-file name (``snap_099.hdf5``); if it does not exist, the chunked
    form (``snap_099.0.hdf5`` ...) is used. ``path`` may also name one chunk (``snap_099.1.hdf5``,
    as a workflow passes the chunks it found when others are missing). The number of chunks comes
    from ``Header/<count_attr>``; every chunk must exist, and a missing one is named as the
    writer names it (:func:`pipeline.io.layout.chunk_path`).
    """
    path = Path(path)
    first = path
    if not first.exists():
        first = chunk_path(path, 0)
        if not first.exists():
            raise InputFileError(f"file {path} does not exist (nor its chunked form {first.name})")
    with open_hdf5(first) as fh:
        n_files = int(require_attrs(fh, "Header", [count_attr])[count_attr])
    if n_files <= 1:
        return [first]
    single = path
    chunk = chunk_of(path)
    if first == path and chunk is not None:  # given one chunk of the output
        single = chunk[0]
    files = chunk_paths(single, n_files)
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise InputFileError(
            f"{first} says Header/{count_attr}={n_files} but {len(missing)} of its {n_files} chunk "
            f"file(s) are missing: {missing[:5]}{' ...' if len(missing) > 5 else ''}"
        )
    return files


def output_name(files: list[str | os.PathLike]) -> Path:
    """The name :func:`resolve_chunks` takes for an output given as its files: the single file,
    or, for chunks ``<stem>.<i><ext>`` of one output (as a workflow lists them), the single-file
    name ``<stem><ext>`` when chunk 0 is among them, else the lowest chunk given (whose header
    then tells which chunks are missing)."""
    if not files:
        raise InputFileError("no files given for a snapshot or group catalog")
    paths = [Path(f) for f in files]
    if len(paths) == 1:
        return paths[0]
    named = [chunk_of(p) for p in paths]
    singles = {c[0] for c in named if c is not None}
    if None in named or len(singles) != 1:
        raise InputFileError(
            f"{len(paths)} files given ({', '.join(str(p) for p in paths[:3])}"
            f"{', ...' if len(paths) > 3 else ''}) but they are not the chunks "
            f"<name>.<i><ext> of one output")
    indices = sorted(c[1] for c in named if c is not None)
    return singles.pop() if indices[0] == 0 else chunk_path(singles.pop(), indices[0])


@dataclass(frozen=True)
class SnapshotHeader:
    """Header of a Gadget/Arepo snapshot (code units: ckpc/h, 1e10 Msun/h)."""

    path: str
    box_size_ckpc_h: float
    redshift: float
    scale_factor: float
    hubble_param: float
    omega_m: float
    omega_lambda: float
    omega_b: float
    mass_table_1e10msun_h: tuple[float, ...]
    num_part_total: tuple[int, ...]
    num_files: int

    @property
    def length_to_mpc(self) -> float:
        """Factor from comoving kpc/h to physical Mpc: a / h / 1000."""
        return self.scale_factor / self.hubble_param / 1000.0

    @property
    def mass_to_msun(self) -> float:
        """Factor from 1e10 Msun/h to Msun."""
        return 1.0e10 / self.hubble_param

    @property
    def box_size(self) -> u.Quantity:
        """Box side as a physical length."""
        return (self.box_size_ckpc_h * self.length_to_mpc) * u.Mpc


def _read_snapshot_header(path: Path) -> tuple[SnapshotHeader, np.ndarray]:
    with open_hdf5(path) as fh:
        attrs = require_attrs(fh, "Header", _SNAP_HEADER_KEYS)
        omega_b = float(fh["Header"].attrs.get("OmegaBaryon", np.nan))
        high = np.asarray(fh["Header"].attrs.get("NumPart_Total_HighWord", np.zeros(6)), np.int64)
    total = np.asarray(attrs["NumPart_Total"], dtype=np.int64) + (high << 32)
    header = SnapshotHeader(
        path=str(path),
        box_size_ckpc_h=float(attrs["BoxSize"]),
        redshift=float(attrs["Redshift"]),
        scale_factor=float(attrs["Time"]),
        hubble_param=float(attrs["HubbleParam"]),
        omega_m=float(attrs["Omega0"]),
        omega_lambda=float(attrs["OmegaLambda"]),
        omega_b=omega_b,
        mass_table_1e10msun_h=tuple(float(m) for m in attrs["MassTable"]),
        num_part_total=tuple(int(n) for n in total),
        num_files=int(attrs["NumFilesPerSnapshot"]),
    )
    return header, np.asarray(attrs["NumPart_ThisFile"], dtype=np.int64)


class Snapshot:
    """A (possibly chunked) snapshot whose particles are read in bounded-size pieces.

    Parameters
    ----------
    path : path-like
        Single-file name of the snapshot (``.../snapshot_090.hdf5``); chunked outputs are found
        from it.
    """

    def __init__(self, path: str | os.PathLike):
        self.files = resolve_chunks(path, "NumFilesPerSnapshot")
        self.header, _ = _read_snapshot_header(self.files[0])
        self._per_file = []
        for f in self.files:
            h, this_file = _read_snapshot_header(f)
            if (h.redshift, h.box_size_ckpc_h) != (self.header.redshift, self.header.box_size_ckpc_h):
                raise InputFileError(
                    f"chunk {f} has Redshift={h.redshift}, BoxSize={h.box_size_ckpc_h} but "
                    f"{self.files[0]} has {self.header.redshift}, {self.header.box_size_ckpc_h}"
                )
            self._per_file.append(this_file)
        summed = np.sum(self._per_file, axis=0)
        if not np.array_equal(summed, np.asarray(self.header.num_part_total)):
            raise InputFileError(
                f"snapshot {path}: Header/NumPart_ThisFile summed over {len(self.files)} file(s) "
                f"is {summed.tolist()} but Header/NumPart_Total is {list(self.header.num_part_total)}"
            )

    def has_field(self, ptype: int, field: str) -> bool:
        """Whether ``PartType<ptype>/<field>`` exists (in the first file holding that type)."""
        for f, counts in zip(self.files, self._per_file, strict=True):
            if counts[ptype] > 0:
                with open_hdf5(f) as fh:
                    return f"PartType{ptype}/{field}" in fh
        return False

    def gas_metallicity_field(self) -> str | None:
        """The gas metallicity dataset of this snapshot's code (:data:`GAS_METALLICITY_FIELDS`:
        IllustrisTNG/Astrid ``GFM_Metallicity``, SIMBA ``Metallicity`` with species as further
        columns), or None if it has neither."""
        return next((f for f in GAS_METALLICITY_FIELDS if self.has_field(0, f)), None)

    def iter_fields(
        self, ptype: int, fields: list[str], chunk_size: int = 2_000_000,
        require_finite: tuple[str, ...] = (), buffers: int = 0,
    ) -> Iterator[dict[str, np.ndarray]]:
        """Yield dicts ``{field: array}`` of at most ``chunk_size`` particles of type ``ptype``.

        ``Masses`` is filled from ``Header/MassTable`` when the dataset is absent (IllustrisTNG
        dark matter). Every dataset must hold exactly ``NumPart_ThisFile[ptype]`` rows. Fields in
        ``require_finite`` must hold no NaN or inf (InputFileError naming the file, dataset and
        rows otherwise): a non-finite coordinate or mass would otherwise drop a particle, or turn
        a halo's sums into NaN, without a word.

        ``buffers``: 0, each chunk in new arrays; n >= 1, the chunks are read into n sets of
        arrays in turn, so a chunk's arrays are overwritten n chunks later (its consumer must be
        done with it by then; behind :func:`pipeline.io.prefetch.prefetch` of depth d, n = d + 2
        is enough: :func:`~pipeline.io.prefetch.buffers_behind`). New arrays cost the page faults
        of ~90 MB per gas chunk: reading a CAMELS snapshot's gas and dark matter took 0.25 s of
        CPU with them, 0.17 s in reused arrays.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        ring: list[dict] = [{} for _ in range(max(0, int(buffers)))]
        turn = 0
        for f, counts in zip(self.files, self._per_file, strict=True):
            n = int(counts[ptype])
            if n == 0:
                continue
            with open_hdf5(f) as fh:
                datasets = {}
                for field in fields:
                    key = f"PartType{ptype}/{field}"
                    if field == "Masses" and key not in fh:
                        mass = self.header.mass_table_1e10msun_h[ptype]
                        if mass <= 0:
                            raise InputFileError(
                                f"file {f} has no dataset '{key}' and Header/MassTable[{ptype}] is 0"
                            )
                        datasets[field] = mass
                        continue
                    ds = require_dataset(fh, key)
                    if ds.shape[0] != n:
                        raise InputFileError(
                            f"file {f}: dataset '{key}' has {ds.shape[0]} rows but "
                            f"Header/NumPart_ThisFile[{ptype}] is {n}"
                        )
                    datasets[field] = ds
                for start in range(0, n, chunk_size):
                    stop = min(start + chunk_size, n)
                    out = {}
                    store = ring[turn % len(ring)] if ring else None
                    turn += 1
                    for field, ds in datasets.items():
                        out[field] = _read_rows(ds, start, stop, store, field, min(chunk_size, n))
                    for field in require_finite:
                        _require_finite(out[field], f, f"PartType{ptype}/{field}", start)
                    yield out

    def stream_fields(self, ptype: int, fields: list[str],
                      chunk_size: int = 2_000_000) -> Iterator[dict[str, np.ndarray]]:
        """:meth:`iter_fields` as the particle passes read: every field required finite, the
        next chunk read by a background thread (:func:`~pipeline.io.prefetch.prefetch`) into
        reused arrays, as many sets as the read-ahead needs. A chunk's arrays stay valid until
        the next chunk is asked for."""
        return prefetch(self.iter_fields(ptype, fields, chunk_size, require_finite=tuple(fields),
                                         buffers=buffers_behind()))


def _read_rows(ds, start: int, stop: int, store: dict | None, field: str,
               capacity: int) -> np.ndarray:
    """Rows [start, stop) of dataset ``ds`` (a float: every row that value, from the MassTable):
    in a new array, or with ``store`` in its array for ``field`` (made, of ``capacity`` rows,
    when missing or unfit)."""
    constant = isinstance(ds, float)
    if store is None:
        return np.full(stop - start, ds) if constant else ds[start:stop]
    shape, dtype = ((), np.dtype(np.float64)) if constant else (ds.shape[1:], ds.dtype)
    buf = store.get(field)
    if buf is None or buf.shape[1:] != shape or buf.dtype != dtype or len(buf) < stop - start:
        buf = store[field] = np.empty((max(capacity, stop - start), *shape), dtype)
    rows = buf[: stop - start]
    if constant:
        rows[...] = ds
    else:
        ds.read_direct(rows, np.s_[start:stop])
    return rows


def _require_finite(values: np.ndarray, path: Path, key: str, first_row: int) -> None:
    # a NaN or inf anywhere makes the sum non-finite, and a sum reads the chunk without the
    # boolean copy of np.isfinite (3.5x faster on coordinates); only a sum that overflows or
    # is not finite needs the element-wise look
    if values.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.add.reduce(values, axis=None)):
                return
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(values), -1).any(axis=1)) + first_row
        raise InputFileError(
            f"file {path}: dataset '{key}' holds {int(bad.sum())} NaN/inf value(s), first at "
            f"row(s) {rows[:5].tolist()}; a corrupt or truncated output? (finite values expected)")


class GroupCatalog:
    """A (possibly chunked) Subfind catalog: ``Group`` and ``Subhalo`` fields, concatenated."""

    def __init__(self, path: str | os.PathLike):
        self.files = resolve_chunks(path, "NumFiles")
        with open_hdf5(self.files[0]) as fh:
            attrs = require_attrs(fh, "Header", ["Ngroups_Total", "Nsubgroups_Total", "Redshift"])
            self.redshift = float(attrs["Redshift"])
            self.n_groups = int(attrs["Ngroups_Total"])
            self.n_subhalos = int(attrs["Nsubgroups_Total"])
            self.box_size_ckpc_h = float(fh["Header"].attrs.get("BoxSize", np.nan))
            self.hubble_param = float(fh["Header"].attrs.get("HubbleParam", np.nan))
        self._field_names: dict[str, set[str] | None] = {}

    def has_field(self, kind: str, field: str) -> bool:
        """Whether ``<kind>/<field>`` exists (in the first file holding rows of ``kind``; a
        catalog with no such rows has every field, trivially)."""
        if kind not in self._field_names:  # one file open per kind, not one per field
            count_attr = "Ngroups_ThisFile" if kind == "Group" else "Nsubgroups_ThisFile"
            self._field_names[kind] = None
            for f in self.files:
                with open_hdf5(f) as fh:
                    if int(fh["Header"].attrs.get(count_attr, 0)) > 0:
                        self._field_names[kind] = set(fh[kind]) if kind in fh else set()
                        break
        names = self._field_names[kind]
        return True if names is None else field in names

    def read(self, kind: str, fields: list[str],
             require_finite: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        """Read ``fields`` of ``kind`` ('Group' or 'Subhalo') from every chunk; fields in
        ``require_finite`` must hold no NaN or inf (InputFileError naming file and dataset)."""
        if kind not in ("Group", "Subhalo"):
            raise ValueError(f"kind must be 'Group' or 'Subhalo', got {kind!r}")
        count_attr = "Ngroups_ThisFile" if kind == "Group" else "Nsubgroups_ThisFile"
        total = self.n_groups if kind == "Group" else self.n_subhalos
        parts: dict[str, list[np.ndarray]] = {f: [] for f in fields}
        for f in self.files:
            with open_hdf5(f) as fh:
                n = int(require_attrs(fh, "Header", [count_attr])[count_attr])
                if n == 0:
                    continue
                for field in fields:
                    ds = require_dataset(fh, f"{kind}/{field}")
                    if ds.shape[0] != n:
                        raise InputFileError(
                            f"file {f}: dataset '{kind}/{field}' has {ds.shape[0]} rows but "
                            f"Header/{count_attr} is {n}"
                        )
                    values = ds[...]
                    if field in require_finite:
                        _require_finite(values, f, f"{kind}/{field}", 0)
                    parts[field].append(values)
        out = {}
        for field, arrays in parts.items():
            out[field] = np.concatenate(arrays) if arrays else np.zeros(0)
            if len(out[field]) != total:
                raise InputFileError(
                    f"catalog {self.files[0]}: '{kind}/{field}' has {len(out[field])} rows in all "
                    f"but Header says {total}"
                )
        return out

    def check_matches(self, snapshot: Snapshot) -> None:
        """Raise InputFileError if this catalog does not belong to ``snapshot``."""
        h = snapshot.header
        checks = [("Redshift", self.redshift, h.redshift)]
        if np.isfinite(self.box_size_ckpc_h):
            checks.append(("BoxSize", self.box_size_ckpc_h, h.box_size_ckpc_h))
        if np.isfinite(self.hubble_param):
            checks.append(("HubbleParam", self.hubble_param, h.hubble_param))
        for name, mine, theirs in checks:
            if not np.isclose(mine, theirs, rtol=1e-5, atol=1e-6):
                raise InputFileError(
                    f"catalog {self.files[0]} and snapshot {snapshot.files[0]} are from different "
                    f"runs or snapshots: Header/{name} is {mine} vs {theirs}"
                )
