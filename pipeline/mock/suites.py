"""Per-suite knobs of the mock: how strongly each feedback parameter moves gas, and file conventions.

The numbers are rough, physically motivated choices (not a calibration): IllustrisTNG-like haloes
respond most to the supernova-wind energy A_SN1, SIMBA-like ones most to the jet speed A_AGN2,
with more gas expelled from groups overall; Astrid-like haloes retain the most gas.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SuiteModel", "SUITE_MODELS", "suite_model"]


@dataclass(frozen=True)
class SuiteModel:
    """Gas physics and on-disk conventions of one mock suite."""

    name: str
    #: log10 of the halo mass [Msun] at which half the cosmic baryons stay inside R200c.
    log10_mc0: float
    #: slope of the retained-baryon fraction f_ret = 1 / (1 + (M_c / M)^beta).
    retention_slope: float
    #: d log10 M_c / d log10 A for A_SN1, A_AGN1, A_SN2, A_AGN2.
    mc_response: tuple[float, float, float, float]
    #: gas-to-dark-matter concentration ratio at 1e13 Msun, fiducial feedback.
    gas_concentration_ratio: float
    #: d ln c_gas / d log10 A_AGN1 (AGN feedback puffs gas up).
    gas_concentration_agn: float
    #: non-thermal pressure fraction at R200c (Nelson et al. 2014-like, rising outwards).
    nonthermal_fraction_r200: float
    #: stellar-mass response d log10 M* / d log10 A for A_SN1 and A_AGN1.
    stellar_response: tuple[float, float]
    #: dark matter stored in Header/MassTable (True) or PartType1/Masses (False).
    dm_in_mass_table: bool
    #: metallicity dataset name and whether it is 2-D (column 0 = total).
    metallicity_field: str
    metallicity_2d: bool
    #: snapshot sorted by FoF group (IllustrisTNG) or not.
    sorted_by_group: bool


SUITE_MODELS: dict[str, SuiteModel] = {
    "IllustrisTNG": SuiteModel(
        name="IllustrisTNG", log10_mc0=12.3, retention_slope=0.5,
        mc_response=(-0.8, 0.3, 0.2, 0.1), gas_concentration_ratio=0.6,
        gas_concentration_agn=-0.4, nonthermal_fraction_r200=0.15,
        stellar_response=(-0.35, -0.1), dm_in_mass_table=True,
        metallicity_field="GFM_Metallicity", metallicity_2d=False, sorted_by_group=True,
    ),
    "SIMBA": SuiteModel(
        name="SIMBA", log10_mc0=12.8, retention_slope=0.5,
        mc_response=(-0.2, 0.1, 0.1, 0.8), gas_concentration_ratio=0.4,
        gas_concentration_agn=-0.2, nonthermal_fraction_r200=0.2,
        stellar_response=(-0.2, -0.15), dm_in_mass_table=False,
        metallicity_field="Metallicity", metallicity_2d=True, sorted_by_group=False,
    ),
    "Astrid": SuiteModel(
        name="Astrid", log10_mc0=12.0, retention_slope=0.6,
        mc_response=(-0.4, 0.4, 0.2, 0.2), gas_concentration_ratio=0.8,
        gas_concentration_agn=-0.3, nonthermal_fraction_r200=0.12,
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
