"""Environment of each halo from the positions and masses of the catalog's haloes.

Large-scale environment (the overdensity of haloes around a halo, its neighbours, how close a
bigger halo is) is what a forest picks for galaxy occupation and assembly bias (Delgado et al.
2022, arXiv:2111.02422; Haas, Schaye & Jeeson-Daniel 2012 for the nearest-neighbour measure).
Measured from the group catalog only, so it costs no particle read: a periodic KD-tree
(``scipy.spatial.cKDTree`` with ``boxsize``) over the tracer haloes, every length physical Mpc.

Features (``EnvironmentOptions.features``):

* ``overdensity``: ``overdensity_<R>mpc`` = M(<R) / (rho_h 4/3 pi R^3) - 1 per radius R, where
  M(<R) is the M200c of the *other* tracer haloes whose centres lie within R and rho_h the mean
  M200c density of all tracers in the box (so it is 0 on average, -1 with no neighbour);
* ``neighbours``: ``n_neighbours_<R>mpc``, the number of other tracer haloes within R;
* ``nearest_more_massive``: ``d_more_massive_r200c``, the distance to the nearest tracer with a
  larger M200c in units of that neighbour's R200c (D_{1,1} of Haas et al.); for the most massive
  halo of the box, which has none, the distance to the farthest point of the periodic box
  (sqrt(3)/2 L) in units of its own R200c (finite, so the row is kept: it is as isolated as the
  box can tell).
"""

from __future__ import annotations

import numpy as np

from ..columns.environment import EnvironmentOptions, environment_columns, radius_tag
from ..errors import DataError

__all__ = ["measure_environment"]

#: neighbours of the nearest-more-massive search asked of the tree at once; haloes with no more
#: massive halo among them (the few most massive ones) are searched by brute force
_K_FIRST = 32


def measure_environment(centres_mpc: np.ndarray, m200_msun: np.ndarray, r200_mpc: np.ndarray,
                        box_mpc: float, measured: np.ndarray,
                        options: EnvironmentOptions) -> dict[str, np.ndarray]:
    """Environment columns of the haloes ``measured`` (indices into the catalog arrays).

    ``centres_mpc`` (n, 3), ``m200_msun`` (n,) and ``r200_mpc`` (n,) describe every halo of the
    catalog (physical Mpc and Msun); ``box_mpc`` the periodic box side [physical Mpc]. Returns
    ``{column name: (len(measured),) array}`` in the order of :func:`environment_columns`."""
    measured = np.asarray(measured, dtype=np.int64)
    m200 = np.asarray(m200_msun, dtype=float)
    pos = np.mod(np.asarray(centres_mpc, dtype=float), box_mpc)
    with np.errstate(divide="ignore"):
        tracer = np.flatnonzero(m200 >= 10**options.tracer_log10_mass_min_msun)
    out: dict[str, np.ndarray] = {}
    if not options.features:
        return out
    if len(tracer) == 0:
        raise DataError(f"environment: no halo has M200c >= 10^{options.tracer_log10_mass_min_msun}"
                        " Msun; lower ingest.environment.tracer_log10_mass_min_msun")
    from scipy.spatial import cKDTree  # ~0.3 s to import: only for studies that use environment

    tree = cKDTree(pos[tracer], boxsize=box_mpc)
    own_tracer = np.isin(measured, tracer)  # a measured halo is not its own neighbour
    m_tracer = m200[tracer]
    rho_h = m_tracer.sum() / box_mpc**3
    for r in options.radii_mpc if {"overdensity", "neighbours"} & set(options.features) else ():
        lists = tree.query_ball_point(pos[measured], r, return_sorted=False)
        counts = np.array([len(ix) for ix in lists], dtype=np.int64) - own_tracer
        mass = np.array([m_tracer[ix].sum() for ix in lists]) - np.where(own_tracer, m200[measured], 0.0)
        if "overdensity" in options.features:
            out[f"overdensity_{radius_tag(r)}mpc"] = mass / (rho_h * 4.0 / 3.0 * np.pi * r**3) - 1.0
        if "neighbours" in options.features:
            out[f"n_neighbours_{radius_tag(r)}mpc"] = counts
    if "nearest_more_massive" in options.features:
        out["d_more_massive_r200c"] = _nearest_more_massive(
            tree, pos, m200, np.asarray(r200_mpc, dtype=float), tracer, measured, box_mpc)
    # the order of environment_columns: overdensities, neighbour counts, then the distance
    order = [c.name for c in environment_columns(options)]
    return {name: out[name] for name in order}


def _nearest_more_massive(tree, pos, m200, r200, tracer, measured, box_mpc) -> np.ndarray:
    k = min(_K_FIRST, len(tracer))
    dist, idx = tree.query(pos[measured], k=k)
    dist, idx = dist.reshape(len(measured), k), idx.reshape(len(measured), k)
    heavier = m200[tracer][idx] > m200[measured][:, None]
    found = heavier.any(axis=1)
    first = np.argmax(heavier, axis=1)  # query results are sorted by distance
    rows = np.arange(len(measured))
    d = np.full(len(measured), np.nan)
    nb = tracer[idx[rows, first]]
    d[found] = dist[rows, first][found] / r200[nb[found]]
    for i in np.flatnonzero(~found):  # the few most massive: every heavier tracer, by brute force
        h = measured[i]
        cand = tracer[m200[tracer] > m200[h]]
        if len(cand) == 0:
            d[i] = np.sqrt(3.0) / 2.0 * box_mpc / r200[h]
            continue
        delta = np.abs(pos[cand] - pos[h])
        delta = np.minimum(delta, box_mpc - delta)
        sep = np.sqrt((delta**2).sum(axis=1))
        j = np.argmin(sep)
        d[i] = sep[j] / r200[cand[j]]
    return d
