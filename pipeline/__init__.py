"""Discovery of low-scatter astrophysical scaling relations from cosmological simulations.

Stages (each a plain function with a thin CLI in :mod:`pipeline.cli`):
``mock`` -> ``ingest`` -> ``assemble`` -> ``rank`` -> ``sr`` -> ``evaluate`` -> ``report``.
"""

__version__ = "0.1.0"
