"""Input kind ``catalog``: subhalo or FoF-group rows read from the Subfind group catalogs alone,
no particle read (``pipeline/ingest/catalog.py``; options in the study's ``catalog`` section)."""

from __future__ import annotations

from ..columns import DERIVED_COLUMNS, HALO_COLUMNS, PER_ROW_COLUMNS
from ..columns.catalog import catalog_columns
from ..defaults import section_defaults
from .kind import InputKind
from .particles import layout_snapshot_redshifts, set_parameter_files

__all__ = ["CATALOG", "catalog_columns_read"]


def _columns(config: dict) -> list:
    """The catalog's own columns (per ``catalog.rows`` and the galaxy-count thresholds) and what
    assemble adds to every row."""
    cat = {**section_defaults("catalog"), **config.get("catalog", {})}
    own = catalog_columns(cat["rows"], cat["galaxy_log10_mstar_min_msun"])
    return list(own) + [c for c in HALO_COLUMNS + DERIVED_COLUMNS if c.name in PER_ROW_COLUMNS]


def catalog_columns_read(study) -> list[str]:
    """The columns a catalog study reads (every target's x, y and features, the evaluation's bin
    column), without the environment columns and those assemble adds to every row: their
    catalog fields must exist, the rest are read where present. ``study``: a
    :class:`pipeline.study_record.Study`."""
    from ..columns.environment import EnvironmentOptions, environment_columns

    used = {study.section("evaluate")["bin_column"]}
    for target in study.targets:
        used |= {target.x, target.y, *study.features[target.name]}
    environment = EnvironmentOptions(**study.section("ingest")["environment"])
    env = {c.name for c in environment_columns(environment)}
    return sorted(used - env - set(PER_ROW_COLUMNS))


CATALOG = InputKind(
    name="catalog",
    row="subhalo or FoF group of the group catalog",
    layout_files=("catalog",),
    reads_particles=False,
    has_positions=True,
    # the latent properties are the mock's haloes', not its subhaloes' or catalog rows'
    mock_truth_applies=False,
    fixed_star_forming_gas=None,
    sections=frozenset({"catalog", "ingest"}),
    data_keys=frozenset({"input", "layout"}),
    sample_keys={},
    rule_file="inputs/catalog.smk",
    report_template="inputs/catalog.typ",
    columns=_columns,
    parameter_files=set_parameter_files,
    snapshot_redshifts=layout_snapshot_redshifts,
)
