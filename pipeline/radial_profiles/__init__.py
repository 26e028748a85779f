"""Profile stage: particles -> stacked radial gas profiles. It has no rules of its own: the
``ingest`` job measures each snapshot's profiles in its one pass, and ``assemble`` joins them
(both in ``rules/ingest.smk``).

Takes a snapshot and its group catalog; gives per mass bin the stacked density, thermal pressure,
temperature and metallicity at the radii of the CAMELS emu stacks (:mod:`pipeline.particles.shells`,
filled by the ingest's one pass, or on its own by :mod:`.measure`), joined over
the study (:mod:`.gather`) and compared with the real stacks (:mod:`.reference`) in the report.
"""
