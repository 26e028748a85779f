"""Physics: cosmology, gas thermodynamics, tSZ signal and halo structure.

Every function states its units; internally the package works in physical Msun, Mpc, K.
"""
