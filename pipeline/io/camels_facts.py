"""What CAMELS publishes and a data folder does not hold: the legacy 1P parameter grid, the
snapshot-to-redshift tables of both snapshot numberings, and the cosmology every run shares.

The facts are package data (``pipeline/io/data/camels_facts.json``), each block with its source
(the CAMELS documentation, the emu_CAMELS repository's own scripts). They let the pipeline read a
clone of emu_CAMELS as it is cloned, with no hand-made ``simulations.csv`` / ``snapshots.csv``
(which stay accepted as an override, :mod:`pipeline.io.camels_stacks`).
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

from ..errors import ConfigError, InputFileError

__all__ = ["camels_facts", "legacy_1p_parameters", "legacy_1p_varied", "snapshot_redshifts",
           "nearest_snapshot",
           "CAMELS_COSMOLOGY", "NUMBERINGS", "REDSHIFT_TOLERANCE", "CAMELS_PARAMETERS",
           "COSMOLOGY_PARAMETERS", "FEEDBACK_PARAMETERS"]

#: The six parameters of every CAMELS simulation, in the order of its parameter files: the one
#: place they are spelled (the registry, readers, mock, evaluation and report import them; the
#: schema's mock.parameter_ranges and the fiducial block of camels_facts.json are checked
#: against them by tests/unit/test_emu_camels.py).
CAMELS_PARAMETERS = ("Omega_m", "sigma_8", "A_SN1", "A_AGN1", "A_SN2", "A_AGN2")
#: the cosmology the sets vary (1P varies each alone, LH both with the feedback)
COSMOLOGY_PARAMETERS = CAMELS_PARAMETERS[:2]
#: the feedback amplitudes: supernova (SN1 energy, SN2 speed) and AGN (AGN1, AGN2); CAMELS draws
#: them log-uniformly
FEEDBACK_PARAMETERS = CAMELS_PARAMETERS[2:]

#: the snapshot numberings: of the releases before 2024 (34 snapshots, 033 = z 0) and of 2024 on
#: (91 snapshots, 090 = z 0)
NUMBERINGS = ("legacy", "camels2024")
#: largest |z(snapshot) - z(asked)| a sample's ``redshifts`` accepts
REDSHIFT_TOLERANCE = 0.02


@functools.cache
def camels_facts() -> dict:
    """The package data, as read from its JSON file."""
    text = resources.files("pipeline.io").joinpath("data", "camels_facts.json").read_text()
    return json.loads(text)


#: h and Omega_b of every IllustrisTNG and SIMBA run (the schema's stacks.hubble_param and
#: stacks.omega_b default to them; a test keeps the two equal)
CAMELS_COSMOLOGY = {k: camels_facts()["cosmology"][k] for k in ("h", "Omega_b")}


def legacy_1p_parameters(sim: str, where: str = "") -> dict[str, float]:
    """The six parameters of a legacy 1P simulation (``1P_0`` .. ``1P_65``): one varied, the
    others fiducial. InputFileError (with ``where``, e.g. the clone's path) for a name outside
    the grid."""
    facts = camels_facts()
    m = re.fullmatch(r"1P_(\d+)", sim)
    blocks = facts["legacy_1P"]["blocks"]
    last = blocks[-1]["first"] + len(blocks[-1]["values"]) - 1
    if m:
        n = int(m.group(1))
        for block in blocks:
            if block["first"] <= n < block["first"] + len(block["values"]):
                params = {k: float(v) for k, v in facts["fiducial"].items() if k != "source"}
                params[block["parameter"]] = float(block["values"][n - block["first"]])
                return params
    raise InputFileError(f"{where}simulation {sim!r} is not in the legacy 1P grid (1P_0 .. "
                         f"1P_{last}: 1P_0-10 Omega_m, 1P_11-21 sigma_8, 1P_22-32 A_SN1, 1P_33-43 "
                         "A_AGN1, 1P_44-54 A_SN2, 1P_55-65 A_AGN2); give its parameters in a "
                         "simulations.csv beside the stacks")


def legacy_1p_varied(sim: str) -> str:
    """The parameter a legacy 1P simulation varies (``1P_40`` -> ``A_AGN1``); InputFileError for
    a name outside the grid."""
    n = int(sim.split("_", 1)[1]) if re.fullmatch(r"1P_\d+", sim) else -1
    for block in camels_facts()["legacy_1P"]["blocks"]:
        if block["first"] <= n < block["first"] + len(block["values"]):
            return block["parameter"]
    legacy_1p_parameters(sim)  # raises, naming the grid
    raise AssertionError("unreachable")


def snapshot_redshifts(numbering: str, suite: str) -> dict[int, float]:
    """Snapshot number -> redshift of ``suite`` in ``numbering`` (:data:`NUMBERINGS`), as far as
    the package data knows it (the legacy 024 .. 033 per suite; 090 = z 0 of 2024)."""
    if numbering not in NUMBERINGS:
        raise ValueError(f"snapshot numbering must be one of {NUMBERINGS}, got {numbering!r}")
    table = camels_facts()["snapshots"][numbering]
    per_suite = table.get(suite, table.get("all", {}))
    return {int(snap): float(z) for snap, z in per_suite.items()}


def nearest_snapshot(redshift: float, table: dict[int, float], where: str,
                     tolerance: float = REDSHIFT_TOLERANCE) -> int:
    """The snapshot of ``table`` (number -> redshift) nearest ``redshift``; ConfigError naming
    both (and ``where``, the config key) when the nearest is more than ``tolerance`` away."""
    if not table:
        raise ConfigError(f"config key '{where}': no snapshot redshifts are known for this "
                          "sample's layout; give snapshot numbers instead")
    snap = min(table, key=lambda s: (abs(table[s] - redshift), s))
    if abs(table[snap] - redshift) > tolerance:
        known = ", ".join(f"{s:03d} (z {z:g})" for s, z in sorted(table.items()))
        raise ConfigError(f"config key '{where}': no snapshot near z = {redshift:g}: the nearest, "
                          f"{snap:03d}, is at z = {table[snap]:g} (more than {tolerance:g} away); "
                          f"known: {known}")
    return snap
