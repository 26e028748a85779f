"""Particles: the compiled kernels and the one scan of a snapshot's particles.

Shared by the stages that read particles: the ingest's per-halo sums in spherical apertures
(:mod:`.apertures`, with the gas thermodynamics fused in :mod:`.gas_kernels`) and the stacked
radial profiles' shell sums (:mod:`.shells`), filled from the same chunks in one pass. It imports
only the shared modules (``io``, ``physics``, ``errors``, ``provenance``), never a stage.
"""
