"""Input kind ``particles``: haloes measured from particle snapshots and group catalogs (the
CAMELS suites or the mock's files; ``pipeline/ingest/particles.py``)."""

from __future__ import annotations

from ..columns import DERIVED_COLUMNS, HALO_COLUMNS, HI_COLUMNS
from ..io.camels_facts import snapshot_redshifts
from ..io.layout import params_path
from .kind import InputKind, ParameterFile

__all__ = ["PARTICLES", "halo_columns", "set_parameter_files", "layout_snapshot_redshifts"]


def halo_columns(config: dict) -> list:
    """A halo row's columns: those measured at ingest and those assemble derives."""
    return list(HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS)


def set_parameter_files(data: dict, sample: dict) -> list[ParameterFile]:
    """The parameter file of the sample's CAMELS set (none for the mock, which writes its own)."""
    if data.get("kind") != "camels":
        return []
    return [("params", params_path({**data, "root": sample.get("root", data.get("root"))},
                                   sample["suite"], sample["volume"], sample["set"]))]


def layout_snapshot_redshifts(data: dict, sample: dict) -> dict[int, float]:
    """The CAMELS numbering of the sample's layout (``camels2024``, ``camels_legacy``); other
    layouts have none (the redshifts are in the snapshots' headers): ValueError."""
    numbering = {"camels2024": "camels2024", "camels_legacy": "legacy"}.get(data.get("layout", ""))
    if numbering is None:
        raise ValueError(f"layout {data.get('layout')!r} has no known snapshot numbering (its "
                         "snapshots' redshifts are in their headers): give snapshot numbers")
    return snapshot_redshifts(numbering, sample["suite"])


PARTICLES = InputKind(
    name="particles",
    row="halo measured from its particles",
    layout_files=("snapshot", "catalog"),
    reads_particles=True,
    has_positions=True,
    mock_truth_applies=True,
    fixed_star_forming_gas=None,
    sections=frozenset({"ingest", "radial_profiles"}),
    data_keys=frozenset({"input", "layout"}),
    sample_keys={},
    rule_file="inputs/particles.smk",
    report_template="inputs/particles.typ",
    columns=halo_columns,
    parameter_files=set_parameter_files,
    snapshot_redshifts=layout_snapshot_redshifts,
)
