"""Reader of CAMELS stacked gas-profile files (emu_CAMELS format, Moser et al. 2022).

One file per (suite, simulation, snapshot, halo-mass bin), in one of two layouts of a root:

* a clone of the emu_CAMELS repository, as cloned (the root holds ``emulator_profiles/``):
  ``emulator_profiles/{set}_set/{suite}/{suite}_{sim}_{snap:03d}_uw_{massbin}.txt``, every suite
  folder present read the same way; the weighted ``*_w.txt`` profiles beside them are another
  product and are not read. Parameters: an LH simulation's from the clone's
  ``scripts/LH_emulator/CosmoAstroSeed_{suite}.txt`` (the CAMELS parameter-file format), a 1P
  simulation's from the legacy 1P grid; redshifts from the legacy snapshot numbering (both package
  data, :mod:`pipeline.io.camels_facts`);
* a flat folder ``{suite}/{suite}_{sim}_{snap:03d}_uw_{massbin}.txt`` with ``simulations.csv``
  (suite, simulation, parameters) and ``snapshots.csv`` (suite, snapshot, redshift) beside it,
  for stacks of one's own.

In a clone, a ``simulations.csv`` or ``snapshots.csv`` at the root overrides (and adds to) what
the clone and the package data say; where both give a value, they must agree. Header lines
(``#``) give the number of
stacked profiles and haloes and the mean and median M200c [Msun]; then one row per radius with 21
columns: R [physical Mpc], then mean, err up, err low, std of log10 and median of the gas density
[Msun/kpc^3], thermal pressure [Msun/kpc/s^2], gas-mass-weighted metallicity [mass fraction] and
gas-mass-weighted temperature [K].
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u

from ..errors import InputFileError
from .camels_facts import CAMELS_PARAMETERS
from .params import NOT_PARAMETERS

__all__ = [
    "ProfileStack", "read_profile_stack", "profile_path", "list_stack_files", "MASS_BINS",
    "is_emu_clone", "stack_parameters", "stack_redshifts", "weighted_only", "EMU_PROFILES",
    "read_simulation_table", "read_snapshot_redshifts", "write_profile_stack", "REFERENCE_SUITES",
    "simulation_table_parameters",
    "FIDUCIAL_SIM",
]

#: Mass-bin labels of the files: log10(M200c / Msun) ranges.
MASS_BINS = ("11-11.5", "11.5-12", "12-12.3", "12.3-13.1")
#: the suites of the CAMELS 1P stacks shipped as the reference (the mock's gas is calibrated
#: against them; the report overlays them on the mock's profiles)
REFERENCE_SUITES = ("IllustrisTNG", "SIMBA")
#: the 1P set's fiducial simulation (every feedback parameter at 1)
FIDUCIAL_SIM = "1P_27"
_QUANTITIES = ("density", "pressure", "metallicity", "temperature")
_STATS = ("mean", "err_up", "err_low", "std_log10", "median")
_UNITS = {
    "density": u.Msun / u.kpc**3,
    "pressure": u.Msun / u.kpc / u.s**2,
    "metallicity": u.dimensionless_unscaled,
    "temperature": u.K,
}
_HEADER = {
    "n_profiles": re.compile(r"nprofs\s+(\d+)"),
    "mean_m200c_msun": re.compile(r"mean mh\s+([0-9.eE+-]+)"),
    "median_m200c_msun": re.compile(r"median mh\s+([0-9.eE+-]+)"),
    "n_halos": re.compile(r"Nhalos\s+(\d+)"),
}


@dataclass(frozen=True)
class ProfileStack:
    """One stacked profile. ``columns[(quantity, stat)]`` are arrays over ``radius``."""

    path: str
    radius: u.Quantity  # physical Mpc
    columns: dict[tuple[str, str], u.Quantity]
    n_profiles: int
    n_halos: int
    mean_m200c: u.Quantity  # Msun
    median_m200c: u.Quantity
    n_halos_from: str = "Nhalos"  # header line the halo count was read from (Nhalos or nprofs)

    def mean(self, quantity: str) -> u.Quantity:
        """The stack's mean profile of ``quantity`` (density, pressure, metallicity, temperature)."""
        return self.columns[(quantity, "mean")]


#: the folder of an emu_CAMELS clone that holds the stacks
EMU_PROFILES = "emulator_profiles"
#: an emu_CAMELS clone's LH parameter file of a suite, relative to the clone
EMU_LH_PARAMETERS = "scripts/LH_emulator/CosmoAstroSeed_{suite}.txt"


def is_emu_clone(root: str | os.PathLike) -> bool:
    """Whether ``root`` is laid out as a clone of the emu_CAMELS repository."""
    return (Path(root) / EMU_PROFILES).is_dir()


def _set_of(sim: str) -> str:
    """The CAMELS set a simulation name belongs to: ``1P_22`` -> 1P, ``LH_7`` -> LH."""
    return sim.split("_", 1)[0]


def _suite_folders(root: str | os.PathLike, suite: str) -> list[Path]:
    if is_emu_clone(root):
        base = Path(root) / EMU_PROFILES
        return sorted(d / suite for d in base.iterdir() if d.name.endswith("_set") and (d / suite).is_dir())
    return [Path(root) / suite]


def profile_path(root: str | os.PathLike, suite: str, sim: str, snap: int, mass_bin: str) -> Path:
    """Path of one stack file under ``root`` (a clone of emu_CAMELS or a flat folder)."""
    name = f"{suite}_{sim}_{int(snap):03d}_uw_{mass_bin}.txt"
    if is_emu_clone(root):
        return Path(root) / EMU_PROFILES / f"{_set_of(sim)}_set" / suite / name
    return Path(root) / suite / name


def list_stack_files(root: str | os.PathLike, suite: str) -> dict[str, dict[tuple[int, str], Path]]:
    """Every stack file of ``suite`` under ``root``, from one listing of each of its folders
    (in a clone, ``emulator_profiles/*_set/{suite}``): simulation -> (snapshot, mass bin) ->
    path. Simulation names hold their set (``1P_22``, ``LH_7``); the weighted ``*_w.txt``
    profiles are not listed; an absent folder gives an empty mapping."""
    pattern = re.compile(rf"^{re.escape(suite)}_(.+)_(\d{{3}})_uw_([0-9.]+-[0-9.]+)\.txt$")
    out: dict[str, dict[tuple[int, str], Path]] = {}
    for folder in _suite_folders(root, suite):
        if not folder.is_dir():
            continue
        for name in os.listdir(folder):
            m = pattern.match(name)
            if m:
                out.setdefault(m.group(1), {})[(int(m.group(2)), m.group(3))] = folder / name
    return out


def weighted_only(root: str | os.PathLike, suite: str, sim: str, snap: int) -> Path | None:
    """The weighted profile file of (suite, sim, snap) when it exists where the unweighted ones
    are asked for: a clone holding only ``_w`` files there (for the message that says so)."""
    path = profile_path(root, suite, sim, snap, "x").with_name(f"{suite}_{sim}_{int(snap):03d}_w.txt")
    return path if path.exists() else None


def _table_beside(root: Path, path: Path, reader) -> dict:
    """A table beside the stacks, read by ``reader``: required in a flat folder (the reader names
    it when absent), an optional override in a clone ({} without it)."""
    return reader(path) if path.exists() or not is_emu_clone(root) else {}


def stack_parameters(root: str | os.PathLike, suite: str, sims) -> dict[tuple[str, str], dict[str, float]]:
    """(suite, simulation) -> parameters of ``sims`` of ``suite`` under ``root``: from
    ``simulations.csv`` (flat layout, or a clone's override), else, in a clone, an LH
    simulation's from ``scripts/LH_emulator/CosmoAstroSeed_{suite}.txt`` and a 1P simulation's
    from the legacy 1P grid. InputFileError naming the file for a clone without the parameter
    file an LH simulation needs, a 1P simulation outside the grid, or an override that disagrees
    with the clone on a parameter."""
    from .camels_facts import legacy_1p_parameters
    from .params import read_simulation_params

    root = Path(root)
    csv_path = root / "simulations.csv"
    table = _table_beside(root, csv_path, read_simulation_table)
    if not is_emu_clone(root):
        return table
    out = dict(table)
    lh_file = root / EMU_LH_PARAMETERS.format(suite=suite)
    lh = None
    for sim in sims:
        if _set_of(sim) == "LH":
            if lh is None:
                if not lh_file.exists():
                    if (suite, sim) in table:
                        continue
                    raise InputFileError(
                        f"emu_CAMELS clone {root}: {lh_file} does not exist; the LH simulations "
                        f"of {suite} (e.g. {sim}) take their parameters from it (a full clone "
                        "has it; or give them in a simulations.csv at the clone's root)")
                lh = read_simulation_params(lh_file)
            if sim not in lh:
                if (suite, sim) in table:
                    continue
                raise InputFileError(f"parameter file {lh_file} has no row for {sim}")
            derived, source = lh[sim], str(lh_file)
        elif _set_of(sim) == "1P":
            if (suite, sim) in table and not re.fullmatch(r"1P_\d+", sim):
                continue
            try:
                derived = legacy_1p_parameters(sim, f"emu_CAMELS clone {root}: ")
                source = "the legacy 1P grid (package data)"
            except InputFileError:
                if (suite, sim) in table:
                    continue
                raise
        elif (suite, sim) in table:
            continue
        else:
            raise InputFileError(f"emu_CAMELS clone {root}: simulation {sim} of {suite} belongs to "
                                 f"no set with known parameters (LH, 1P); give its parameters in "
                                 f"{csv_path}")
        derived = {k: v for k, v in derived.items() if k != "seed"}
        override = table.get((suite, sim))
        if override is not None:
            for name, value in derived.items():
                if name in override and abs(override[name] - value) > 1e-4 * max(1.0, abs(value)):
                    raise InputFileError(
                        f"{csv_path} gives {name} = {override[name]:g} for {suite} {sim}, but "
                        f"{source} says {value:g}: the override disagrees with the clone (remove "
                        "one of them)")
            derived = {**derived, **override}
        out[(suite, sim)] = derived
    return out


def stack_redshifts(root: str | os.PathLike) -> dict[tuple[str, int], float]:
    """(suite, snapshot) -> redshift for the stacks under ``root``: ``snapshots.csv`` (flat
    layout, or a clone's override), and in a clone the legacy numbering of every suite present
    (package data); InputFileError where an override disagrees with it."""
    from .camels_facts import snapshot_redshifts

    root = Path(root)
    csv_path = root / "snapshots.csv"
    table = _table_beside(root, csv_path, read_snapshot_redshifts)
    if not is_emu_clone(root):
        return table
    out = dict(table)
    suites = {d.name for folder in (root / EMU_PROFILES).iterdir() if folder.is_dir()
              for d in folder.iterdir() if d.is_dir()}
    for suite in sorted(suites):
        for snap, z in snapshot_redshifts("legacy", suite).items():
            if (suite, snap) in table and abs(table[(suite, snap)] - z) > 1e-4:
                raise InputFileError(
                    f"{csv_path} gives redshift {table[(suite, snap)]:g} for {suite} snapshot "
                    f"{snap:03d}, but the legacy CAMELS numbering (package data) says {z:g}: the "
                    "override disagrees (remove one of them)")
            out.setdefault((suite, snap), z)
    return out


def read_profile_stack(path: str | os.PathLike) -> ProfileStack:
    """Read one stack file; malformed content raises InputFileError naming the file and problem."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"profile file {path} does not exist")
    try:
        text_lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputFileError(f"profile file {path} is not a text file (byte {exc.start} is not "
                             "UTF-8): expected the emu_CAMELS text format") from None
    header = {}
    rows = []
    for lineno, line in enumerate(text_lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            for key, pattern in _HEADER.items():
                m = pattern.search(text)
                if m:
                    header[key] = float(m.group(1))
            continue
        parts = text.split()
        if len(parts) != 21:
            raise InputFileError(f"profile file {path}, line {lineno}: expected 21 columns, got {len(parts)}")
        try:
            rows.append([float(p) for p in parts])
        except ValueError as exc:
            raise InputFileError(f"profile file {path}, line {lineno}: {exc}") from exc
    # two header variants: the halo count on an "Nhalos" line, or (other emu_CAMELS extractions)
    # only "nprofs N, mean mh ..., median mh ..." where N is the halo count
    halos_from = "Nhalos"
    if "n_halos" not in header and "n_profiles" in header:
        header["n_halos"], halos_from = header["n_profiles"], "nprofs"
    missing = [k for k in _HEADER if k not in header]
    if missing:
        raise InputFileError(f"profile file {path}: header lacks {missing} (e.g. '#  Nhalos 36' "
                             "or '#  nprofs 36, mean mh ..., median mh ...')")
    if len(rows) < 3:
        raise InputFileError(f"profile file {path}: {len(rows)} radial rows, need at least 3")
    data = np.asarray(rows)
    radius = data[:, 0]
    if np.any(~np.isfinite(radius)) or np.any(radius <= 0) or np.any(np.diff(radius) <= 0):
        raise InputFileError(f"profile file {path}: radii (column 0) must be positive and increasing")
    columns = {}
    for qi, quantity in enumerate(_QUANTITIES):
        for si, stat in enumerate(_STATS):
            unit = u.dimensionless_unscaled if stat == "std_log10" else _UNITS[quantity]
            columns[(quantity, stat)] = data[:, 1 + 5 * qi + si] * unit
    for (quantity, stat), values in columns.items():
        bad = ~np.isfinite(values.value)
        if bad.any():
            raise InputFileError(
                f"profile file {path}: column {1 + 5 * _QUANTITIES.index(quantity) + _STATS.index(stat)}"
                f" ({stat} {quantity}) is NaN/inf at radial row(s) {np.flatnonzero(bad)[:5].tolist()}")
    for quantity in _QUANTITIES:
        if np.any(columns[(quantity, "mean")].value < 0):
            raise InputFileError(f"profile file {path}: mean {quantity} has negative values")
    return ProfileStack(
        path=str(path), radius=radius * u.Mpc, columns=columns,
        n_profiles=int(header["n_profiles"]), n_halos=int(header["n_halos"]),
        mean_m200c=header["mean_m200c_msun"] * u.Msun,
        median_m200c=header["median_m200c_msun"] * u.Msun, n_halos_from=halos_from,
    )


def write_profile_stack(
    path: str | os.PathLike, radius_mpc: np.ndarray, mean_profiles: dict[str, np.ndarray],
    n_halos: int, mean_m200c_msun: float, mass_range: tuple[float, float], n_profiles: int = 400,
    halo_count_line: bool = True,
) -> Path:
    """Write a stack file in the same format (for synthetic inputs and tests): the mean columns
    from ``mean_profiles`` (density, pressure, metallicity, temperature, in the file's units),
    errors 10%, std 0.3 dex, median = mean. Without ``halo_count_line``, the other header
    variant: no ``Nhalos`` line, the halo count as ``nprofs``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = [np.asarray(radius_mpc, dtype=float)]
    for quantity in _QUANTITIES:
        mean = np.asarray(mean_profiles[quantity], dtype=float)
        cols += [mean, 0.1 * mean, 0.1 * mean, np.full_like(mean, 0.3), mean]
    nprofs = n_profiles if halo_count_line else n_halos
    lines = [
        "# R (Mpc), mean rho (Msol/kpc^3), ... (synthetic)",
        f"#  nprofs {nprofs}, mean mh {mean_m200c_msun:.6f}, median mh {mean_m200c_msun:.6f} ",
        f"#  Mass range {mass_range[0]:.2f} - {mass_range[1]}",
    ] + ([f"#  Nhalos {n_halos}"] if halo_count_line else [])
    lines += [" ".join(f"{v:.18e}" for v in row) for row in np.column_stack(cols)]
    path.write_text("\n".join(lines) + "\n")
    return path


def read_simulation_table(path: str | os.PathLike) -> dict[tuple[str, str], dict[str, float]]:
    """``simulations.csv``: (suite, simulation) -> parameters: Omega_m, sigma_8, A_SN1, A_AGN1,
    A_SN2, A_AGN2 (required) and any further parameter column of the table (every column but
    suite, simulation, varied and seed; a value that is no number is an error naming the row)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"simulation table {path} does not exist")
    out = {}
    with path.open() as fh:
        reader = csv.DictReader(fh)
        required = {"suite", "simulation", *CAMELS_PARAMETERS}
        if not required <= set(reader.fieldnames or []):
            raise InputFileError(
                f"simulation table {path}: columns {sorted(required - set(reader.fieldnames or []))} missing")
        names = [k for k in reader.fieldnames or [] if k not in NOT_PARAMETERS]
        for line, row in enumerate(reader, start=2):
            try:
                out[(row["suite"], row["simulation"])] = {k: float(row[k]) for k in names}
            except (TypeError, ValueError):
                raise InputFileError(f"simulation table {path}, line {line}: a parameter of "
                                     f"{names} is not a number: {row}") from None
    return out


def simulation_table_parameters(path: str | os.PathLike) -> list[str]:
    """The parameter columns of ``simulations.csv`` (as :func:`read_simulation_table` reads)."""
    with Path(path).open() as fh:
        header = next(csv.reader(fh), [])
    return [k for k in header if k not in NOT_PARAMETERS]


def read_snapshot_redshifts(path: str | os.PathLike) -> dict[tuple[str, int], float]:
    """``snapshots.csv``: (suite, snapshot number) -> redshift."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"snapshot table {path} does not exist")
    with path.open() as fh:
        reader = csv.DictReader(fh)
        if not {"suite", "snapshot", "redshift"} <= set(reader.fieldnames or []):
            raise InputFileError(f"snapshot table {path}: needs columns suite, snapshot, redshift")
        return {(r["suite"], int(r["snapshot"])): float(r["redshift"]) for r in reader}
