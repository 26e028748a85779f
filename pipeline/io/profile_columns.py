"""The quantities of the stacked radial-profile tables (profile stage and the CAMELS stacks read
into its columns): column ``<quantity>_<stat>`` for each quantity and statistic, in the unit
given here (``std_log10`` is dimensionless). A shared module: the profile kernels, the reference
reader and the report import it without importing each other."""

from __future__ import annotations

from astropy import units as u

__all__ = ["QUANTITIES", "STATS", "UNITS"]

QUANTITIES = ("density", "pressure", "temperature", "metallicity")
STATS = ("mean", "err_up", "err_low", "std_log10", "median")
UNITS = {"density": u.Msun / u.kpc**3, "pressure": u.Msun / u.kpc / u.s**2, "temperature": u.K,
         "metallicity": u.dimensionless_unscaled}
