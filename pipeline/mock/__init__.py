"""Embedded mock (``rules/mock.smk``): synthetic CAMELS-like suites in the real on-disk formats.

The mock draws haloes from a mass function, gives each a dark-matter NFW profile, stars, and gas
whose amount, concentration and temperature follow from a small physical model (baryon retention
against feedback, hydrostatic equilibrium with non-thermal support) that depends on mass, redshift,
the four CAMELS feedback parameters and the suite. Particles are then sampled and written as
snapshots, Subfind catalogs and parameter files, read back by the same readers as real data.
"""
