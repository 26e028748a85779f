"""Readers and writers: Gadget/Arepo HDF5 snapshots and group catalogs, CAMELS parameter files,
astropy tables written atomically."""
