"""Environment columns: which the options ask for, and their names and definitions.

Measured by the ingest (:mod:`pipeline.ingest.environment`) from the group catalog's haloes; named
here so that the configuration check, the docs and the ingest agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..defaults import SCHEMA, schema_defaults
from ..errors import ConfigError
from . import Column

__all__ = ["ENVIRONMENT_FEATURES", "EnvironmentOptions", "environment_columns", "radius_tag"]

ENVIRONMENT_FEATURES = ("overdensity", "neighbours", "nearest_more_massive")


@dataclass(frozen=True)
@schema_defaults("ingest", "environment")
class EnvironmentOptions:
    """features: which of :data:`ENVIRONMENT_FEATURES` (none: no environment columns).
    radii_mpc: sphere radii [physical Mpc] of ``overdensity`` and ``neighbours``.
    tracer_log10_mass_min_msun: haloes of the catalog with M200c >= 10^this [Msun] are the
        tracers (the measured haloes are counted as tracers of each other's environment only
        if they pass it too)."""

    features: tuple[str, ...] = SCHEMA
    radii_mpc: tuple[float, ...] = SCHEMA
    tracer_log10_mass_min_msun: float = SCHEMA

    def __post_init__(self):
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "radii_mpc", tuple(float(r) for r in self.radii_mpc))
        bad = [f for f in self.features if f not in ENVIRONMENT_FEATURES]
        if bad:
            raise ConfigError(f"config key 'ingest.environment.features': unknown {bad}; "
                              f"valid: {list(ENVIRONMENT_FEATURES)}")
        if any(not r > 0 for r in self.radii_mpc):
            raise ConfigError(f"config key 'ingest.environment.radii_mpc': radii must be "
                              f"positive [Mpc], got {list(self.radii_mpc)}")
        if {"overdensity", "neighbours"} & set(self.features) and not self.radii_mpc:
            raise ConfigError("config key 'ingest.environment.radii_mpc': overdensity and "
                              "neighbours need at least one radius")


def radius_tag(radius_mpc: float) -> str:
    """How a radius [Mpc] appears in a column name: 1 -> "1", 2.5 -> "2p5"."""
    return f"{radius_mpc:g}".replace(".", "p")


def environment_columns(options: EnvironmentOptions) -> list[Column]:
    """The columns ``options`` adds to the halo table, in table order."""
    cols = []
    for r in options.radii_mpc if "overdensity" in options.features else ():
        cols.append(Column(f"overdensity_{radius_tag(r)}mpc", "",
                           f"M200c of the other haloes (M200c >= 10^"
                           f"{options.tracer_log10_mass_min_msun:g} Msun) centred within {r:g} "
                           "physical Mpc over the box's mean M200c density times the sphere's "
                           "volume, minus 1"))
    for r in options.radii_mpc if "neighbours" in options.features else ():
        cols.append(Column(f"n_neighbours_{radius_tag(r)}mpc", "",
                           f"number of other haloes (M200c >= 10^"
                           f"{options.tracer_log10_mass_min_msun:g} Msun) centred within {r:g} "
                           "physical Mpc"))
    if "nearest_more_massive" in options.features:
        cols.append(Column("d_more_massive_r200c", "",
                           "distance to the nearest halo of larger M200c in units of that halo's "
                           "R200c (the box's most massive halo: sqrt(3)/2 L over its own R200c)"))
    return cols
