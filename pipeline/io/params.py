"""CAMELS per-set parameter files (``CosmoAstroSeed_{suite}_{volume}_{set}.txt``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputFileError
from .atomic import atomic_path
from .camels_facts import CAMELS_PARAMETERS

__all__ = ["read_simulation_params", "write_simulation_params", "parameter_names", "PARAM_COLUMNS",
           "PARAM_ALIASES", "NOT_PARAMETERS"]

#: Columns of the LH/CV/1P parameter files of the CAMELS 2022-2023 releases.
PARAM_COLUMNS = [*CAMELS_PARAMETERS, "seed"]
#: Names used by the newer 28-parameter files (SB28, IllustrisTNG 1P) for the same quantities.
#: Their feedback parameters keep their code names (WindEnergyIn1e51erg, ...).
PARAM_ALIASES = {"Omega0": "Omega_m", "OmegaM": "Omega_m", "sigma8": "sigma_8"}
#: columns of the simulation tables that describe a simulation but are no physical parameter
NOT_PARAMETERS = frozenset({"seed", "suite", "simulation", "varied"})


def parameter_names(path: str | os.PathLike) -> list[str]:
    """The parameters a CAMELS parameter file names in its ``#Name ...`` header (aliases applied;
    the random seed left out): every one of them becomes a halo-table column at assemble."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"simulation parameter file {path} does not exist")
    with path.open() as fh:
        first = fh.readline()
    if not first.startswith("#"):
        raise InputFileError(
            f"parameter file {path}: first line must be a '#Name ...' header naming the columns")
    names = [PARAM_ALIASES.get(n, n) for n in first.lstrip("#").split()[1:]]
    return [n for n in names if n not in NOT_PARAMETERS]


def read_simulation_params(path: str | os.PathLike) -> dict[str, dict[str, float]]:
    """Parameters of every simulation in a CAMELS parameter file.

    The first line names the columns (``#Name Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2 seed``);
    each further line is ``<sim> <values...>``. Returns ``{sim: {column: value}}``.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"simulation parameter file {path} does not exist")
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("#"):
        raise InputFileError(
            f"parameter file {path}: first line must be a '#Name ...' header naming the columns"
        )
    names = [PARAM_ALIASES.get(n, n) for n in lines[0].lstrip("#").split()[1:]]
    out: dict[str, dict[str, float]] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        if line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != len(names) + 1:
            raise InputFileError(
                f"parameter file {path}, line {lineno}: expected {len(names) + 1} columns "
                f"(name + {names}), got {len(parts)}"
            )
        try:
            out[parts[0]] = {n: float(v) for n, v in zip(names, parts[1:], strict=True)}
        except ValueError as exc:
            raise InputFileError(f"parameter file {path}, line {lineno}: {exc}") from exc
    return out


def write_simulation_params(path: str | os.PathLike, params: dict[str, dict[str, float]]) -> None:
    """Write ``{sim: {column: value}}`` in the CAMELS parameter-file format (atomically)."""
    lines = ["#Name " + " ".join(PARAM_COLUMNS)]
    for sim, values in params.items():
        row = [f"{values[c]:.5f}" if c != "seed" else str(int(values[c])) for c in PARAM_COLUMNS]
        lines.append(f"{sim} " + " ".join(row))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
