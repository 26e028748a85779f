"""Where the files of a simulation live, for the directory layouts of the CAMELS releases."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["LAYOUTS", "snapshot_path", "catalog_path", "params_path", "truth_path", "wildcard_pattern",
           "chunk_path", "chunk_paths", "chunk_of"]

#: Path templates relative to ``data.root``.
LAYOUTS: dict[str, dict[str, str]] = {
    "camels2024": {
        "snapshot": "Sims/{suite}/{volume}/{set}/{sim}/snapshot_{snap:03d}.hdf5",
        "catalog": "FOF_Subfind/{suite}/{volume}/{set}/{sim}/groups_{snap:03d}.hdf5",
        "params": "Sims/{suite}/{volume}/{set}/CosmoAstroSeed_{suite}_{volume}_{set}.txt",
    },
    "camels_legacy": {
        "snapshot": "Sims/{suite}/{sim}/snap_{snap:03d}.hdf5",
        "catalog": "FOF_Subfind/{suite}/{sim}/fof_subhalo_tab_{snap:03d}.hdf5",
        "params": "Sims/{suite}/CosmoAstroSeed_{suite}_{volume}_{set}.txt",
    },
    # IllustrisTNG public data: <root>/<sim>/output/snapdir_099/snap_099.<i>.hdf5 (chunked);
    # usually no parameter file (the physics of a TNG run is its name): an optional one per suite
    "tng": {
        "snapshot": "{sim}/output/snapdir_{snap:03d}/snap_{snap:03d}.hdf5",
        "catalog": "{sim}/output/groups_{snap:03d}/fof_subhalo_tab_{snap:03d}.hdf5",
        "params": "CosmoAstroSeed_{suite}.txt",
    },
}


def chunk_path(single: str | os.PathLike, index: int) -> Path:
    """Chunk ``index`` of the output whose single-file name is ``single``:
    ``snap_099.hdf5`` -> ``snap_099.<index>.hdf5`` (Gadget/Arepo's naming of split outputs). The
    one place that spells a chunk's name: the writers, the readers and the messages that list
    missing chunks all build it here."""
    single = Path(single)
    return single.with_name(f"{single.stem}.{int(index)}{single.suffix}")


def chunk_paths(single: str | os.PathLike, n_files: int) -> list[Path]:
    """Every file of an output split into ``n_files`` (the single file itself when 1)."""
    if n_files <= 1:
        return [Path(single)]
    return [chunk_path(single, i) for i in range(n_files)]


def chunk_of(path: str | os.PathLike) -> tuple[Path, int] | None:
    """``(single-file name, index)`` if ``path`` is named as a chunk (``snap_099.3.hdf5`` ->
    ``(snap_099.hdf5, 3)``), else None."""
    path = Path(path)
    stem, dot, index = path.stem.rpartition(".")
    if not dot or not stem or not index.isdigit():
        return None
    return path.with_name(f"{stem}{path.suffix}"), int(index)


def _fill(data: dict, what: str, volume: str | None = None, sim_set: str | None = None,
          **fields) -> str:
    """The path of ``what`` under ``data.root`` with the layout's template filled by ``fields``,
    the simulation set and the volume (arguments, else ``data``'s keys of the same name; plain
    string join: called several times per job when Snakemake builds the DAG)."""
    layout = data.get("layout", "camels2024")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown data.layout {layout!r}; valid: {sorted(LAYOUTS)}")
    template = LAYOUTS[layout][what]
    if "snap" in fields and isinstance(fields["snap"], str):  # a wildcard, already zero-padded
        template = template.replace("{snap:03d}", "{snap}")
    rel = template.format(volume=volume or data.get("volume", "L25n256"),
                          set=sim_set or data.get("set", "LH"), **fields)
    return os.path.normpath(os.path.join(data["root"], rel))


def wildcard_pattern(data: dict, what: str) -> str:
    """The path template of ``what`` (snapshot, catalog, params, truth) with Snakemake wildcards
    ``{suite}``, ``{volume}``, ``{simset}``, ``{sim}``, ``{snap}`` (the snapshot number as the
    zero-padded string of the file names, e.g. ``090``)."""
    if what == "truth":
        return truth_path(data, "{suite}", "{sim}", "{snap}", "{volume}", "{simset}")
    return _fill(data, what, "{volume}", "{simset}", suite="{suite}", sim="{sim}", snap="{snap}")


def snapshot_path(data: dict, suite: str, sim: str, snap: int, volume: str | None = None,
                  sim_set: str | None = None) -> str:
    """Single-file snapshot path (chunked outputs are found from it by the reader)."""
    return _fill(data, "snapshot", volume, sim_set, suite=suite, sim=sim, snap=int(snap))


def catalog_path(data: dict, suite: str, sim: str, snap: int, volume: str | None = None,
                 sim_set: str | None = None) -> str:
    """Single-file group-catalog path."""
    return _fill(data, "catalog", volume, sim_set, suite=suite, sim=sim, snap=int(snap))


def params_path(data: dict, suite: str, volume: str | None = None, sim_set: str | None = None) -> str:
    """Parameter file of the suite's simulation set."""
    return _fill(data, "params", volume, sim_set, suite=suite)


def expand_simulation_globs(data: dict, suite: str, entries: list[str]) -> list[str]:
    """Replace entries with glob characters (``LH_*``, ``1P_p1_?``) by the simulations whose
    directory exists in the snapshot tree of ``data`` (natural sort order); a pattern that matches
    nothing raises ValueError naming the directory searched."""
    import glob
    import re

    out: list[str] = []
    for entry in entries:
        if not any(ch in entry for ch in "*?["):
            out.append(entry)
            continue
        probe = Path(snapshot_path(data, suite, "\0", 0))
        parts = probe.parts
        depth = parts.index("\0")
        base = Path(*parts[:depth])
        found = sorted((Path(p).name for p in glob.glob(str(base / entry)) if Path(p).is_dir()),
                       key=lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)])
        if not found:
            raise ValueError(f"simulation pattern {entry!r} of suite {suite} matches no directory in {base}")
        out.extend(found)
    return out


def truth_path(data: dict, suite: str, sim: str, snap: int | str, volume: str | None = None,
               sim_set: str | None = None) -> str:
    """Mock only: the table of drawn halo properties, beside the snapshot (``snap`` may be the
    wildcard ``{snap}``)."""
    snapshot = _fill(data, "snapshot", volume, sim_set, suite=suite, sim=sim,
                     snap=snap if isinstance(snap, str) else int(snap))
    name = f"mock_truth_{snap}.h5" if isinstance(snap, str) else f"mock_truth_{int(snap):03d}.h5"
    return str(Path(snapshot).with_name(name))
