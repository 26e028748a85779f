"""Profile stage on its own: the stacked radial gas profiles of one snapshot, reading its gas.

The pipeline's ingest job fills the same :class:`~pipeline.particles.shells.ProfilePlan` in its
one pass over the particles (one read per snapshot); this reads a snapshot for the profiles alone
(the ``radial-profiles`` command, benchmarks), with the same table. What is measured and how:
:mod:`pipeline.particles.shells`.
"""

from __future__ import annotations

from astropy.table import Table

from ..io.gadget import GroupCatalog, Snapshot
from ..particles.shells import ProfileOptions, ProfilePlan

__all__ = ["measure_radial_profiles"]


def _gas_chunks(snap: Snapshot, options: ProfileOptions):
    """The snapshot's gas chunks, as read (code units, the fields the profiles need)."""
    z_field = snap.gas_metallicity_field()
    fields = ["Coordinates", "Masses", "InternalEnergy", "ElectronAbundance", "StarFormationRate"]
    fields += [z_field] if z_field else []
    yield from snap.stream_fields(0, fields, options.chunk_particles)


def measure_radial_profiles(
    snapshot_path, catalog_path, options: ProfileOptions | None = None,
    meta: dict | None = None,
) -> Table:
    """One row per (mass bin, radius) of one snapshot: the stacked profiles (see
    :mod:`pipeline.particles.shells`), with mass_bin, n_halos, mean_m200c [Msun], r [Mpc] and the
    metadata in ``meta`` (suite, sim, snapshot, simulation parameters). Reads the gas on its own;
    the pipeline's ingest fills the same :class:`ProfilePlan` in its one particle pass instead
    (:func:`pipeline.ingest.particles.measure_snapshot`). ``options``: default
    :class:`ProfileOptions`."""
    options = ProfileOptions() if options is None else options
    snap = Snapshot(snapshot_path)
    cat = GroupCatalog(catalog_path)
    cat.check_matches(snap)
    plan = ProfilePlan(snap, cat, options)
    z_field = snap.gas_metallicity_field()
    for chunk in _gas_chunks(snap, options):
        plan.sums.add_snapshot_chunk(chunk, snap.header, z_field, options.star_forming_gas)
    return plan.table(meta)
