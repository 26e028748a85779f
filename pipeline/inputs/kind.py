"""The interface every input kind fills in (:class:`InputKind`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["InputKind", "ParameterFile"]

#: (format, path) of a file that holds simulation parameters: ``"params"`` (a CAMELS
#: CosmoAstroSeed text file) or ``"csv"`` (a ``simulations.csv`` table)
ParameterFile = tuple[str, str]


@dataclass(frozen=True)
class InputKind:
    """How a study reads its rows from one kind of input.

    The rule files, the configuration check and the report read these fields; nothing outside
    the kind's own module tests its name.
    """

    #: the registry key, also ``data.input`` (or ``data.kind``) in the study file
    name: str
    #: what one row is, for messages and the report ("halo measured from particles")
    row: str
    #: the files one (simulation, snapshot) has in a CAMELS layout, in the order they are checked
    #: (``layout.snapshot_path``, ``layout.catalog_path``), so its tables are named by (suite,
    #: volume, set, simulation, snapshot) and a set has one root; none where the kind lists its
    #: own files
    layout_files: tuple[str, ...]
    #: gas particles are read: the profile stage, the HI columns, a minimum gas-particle count
    #: and a choice of the star-forming-gas rule are possible
    reads_particles: bool
    #: rows carry positions (the environment columns need them)
    has_positions: bool
    #: the rows are the haloes the mock drew, so its latent properties (the noise floor) apply
    mock_truth_applies: bool
    #: the star-forming-gas rule its files fix (``"include"``), or None where the study chooses
    fixed_star_forming_gas: str | None
    #: the sections of the study only some kinds read, among ``ingest``, ``radial_profiles``,
    #: ``catalog``, ``stacks``: those it reads (the report's listing leaves out the others)
    sections: frozenset[str]
    #: the keys of ``data`` it reads beyond ``kind`` and ``root`` (``input``, ``layout``)
    data_keys: frozenset[str]
    #: per-sample keys only this kind reads -> the (section, key) of their study-wide default
    #: (``mass_bins`` -> ``stacks.mass_bins``)
    sample_keys: Mapping[str, tuple[str, str]]
    #: the rule file (under ``pipeline/rules/``) that plans its ingest jobs and runs them
    rule_file: str
    #: the report's template (under ``pipeline/report/templates/``): its Methods paragraph,
    #: input and selection sentences
    report_template: str
    #: the registry rows (:class:`pipeline.columns.Column`) of the columns its rows carry, for a
    #: study (a mapping, validated or not); the environment columns and the simulation
    #: parameters beyond the standard six come on top
    columns: Callable[[dict], list]
    #: the files that hold one sample's simulation parameters: ``(data, sample) -> [ParameterFile]``
    parameter_files: Callable[[dict, dict], list[ParameterFile]]
    #: snapshot number -> redshift of one sample's files, ``(data, sample)``, for samples that
    #: name redshifts (InputFileError or ValueError where it cannot be known)
    snapshot_redshifts: Callable[[dict, dict], dict[int, float]]
