"""Input kind ``stacks``: stacked gas profiles (the emu_CAMELS files), one row per stack of
haloes in a mass bin of one simulation and snapshot (``pipeline/ingest/stacks.py``)."""

from __future__ import annotations

import os

from .kind import InputKind, ParameterFile
from .particles import halo_columns

__all__ = ["STACKS"]


def _parameter_files(data: dict, sample: dict) -> list[ParameterFile]:
    """The root's ``simulations.csv`` and, in an emu_CAMELS clone, its LH parameter file (the
    standard six; the 1P values are package data)."""
    root = str(sample.get("root", data.get("root")))
    return [("csv", os.path.join(root, "simulations.csv")),
            ("params", os.path.join(root, "scripts", "LH_emulator",
                                    f"CosmoAstroSeed_{sample['suite']}.txt"))]


def _snapshot_redshifts(data: dict, sample: dict) -> dict[int, float]:
    """The redshifts the root's stacks list for the sample's suite (``snapshots.csv``, or an
    emu_CAMELS clone's own table)."""
    from ..io.camels_stacks import stack_redshifts  # brings astropy.units: only where asked

    table = stack_redshifts(str(sample.get("root", data.get("root"))))
    return {snap: z for (suite, snap), z in table.items() if suite == sample["suite"]}


STACKS = InputKind(
    name="stacks",
    row="stack of haloes in one mass bin",
    layout_files=(),  # listed per (root, suite) by the rule file, measured in cached blocks
    reads_particles=False,
    has_positions=False,
    mock_truth_applies=False,
    fixed_star_forming_gas="include",  # the CAMELS stack files include the star-forming gas
    sections=frozenset({"stacks"}),
    data_keys=frozenset(),
    sample_keys={"mass_bins": ("stacks", "mass_bins")},
    rule_file="inputs/stacks.smk",
    report_template="inputs/stacks.typ",
    columns=halo_columns,  # a stack's row: the same columns (those it cannot measure NaN)
    parameter_files=_parameter_files,
    snapshot_redshifts=_snapshot_redshifts,
)
