"""Per-suite knobs of the mock: stellar response to feedback and on-disk file conventions.

The gas of each suite (how much stays, its shape and temperature, their response to feedback) is
the calibrated model of :mod:`pipeline.mock.gas_model`. The stellar responses are rough, physically
motivated choices: stronger winds (A_SN1) lower the stellar mass of small haloes, stronger AGN
(A_AGN1) that of groups.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SuiteModel", "SUITE_MODELS", "suite_model"]


@dataclass(frozen=True)
class SuiteModel:
    """Stellar response and on-disk conventions of one mock suite."""

    name: str
    #: stellar-mass response d log10 M* / d log10 A for A_SN1 and A_AGN1.
    stellar_response: tuple[float, float]
    #: dark matter stored in Header/MassTable (True) or PartType1/Masses (False).
    dm_in_mass_table: bool
    #: metallicity dataset name and whether it is 2-D (column 0 = total).
    metallicity_field: str
    metallicity_2d: bool
    #: snapshot sorted by FoF group (IllustrisTNG) or not.
    sorted_by_group: bool
    #: PartType4 also holds wind-phase cells, told apart by GFM_StellarFormationTime <= 0
    #: (IllustrisTNG's convention; stars have the scale factor of their birth there).
    wind_cells: bool = False


SUITE_MODELS: dict[str, SuiteModel] = {
    "IllustrisTNG": SuiteModel(
        name="IllustrisTNG",
        stellar_response=(-0.35, -0.1), dm_in_mass_table=True,
        metallicity_field="GFM_Metallicity", metallicity_2d=False, sorted_by_group=True,
        wind_cells=True,
    ),
    "SIMBA": SuiteModel(
        name="SIMBA",
        stellar_response=(-0.2, -0.15), dm_in_mass_table=False,
        metallicity_field="Metallicity", metallicity_2d=True, sorted_by_group=False,
    ),
    "Astrid": SuiteModel(
        name="Astrid",
        stellar_response=(-0.3, -0.2), dm_in_mass_table=True,
        metallicity_field="GFM_Metallicity", metallicity_2d=False, sorted_by_group=False,
    ),
}


def suite_model(name: str) -> SuiteModel:
    """The mock model of suite ``name``; an unknown name lists the valid ones."""
    try:
        return SUITE_MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown mock suite {name!r}; valid suites: {sorted(SUITE_MODELS)}"
        ) from None
