"""Spherical apertures around haloes in a periodic box, in one compiled pass over the particles.

A periodic KD-tree over a full CAMELS snapshot (16.7 M gas particles) takes ~7 s to build, yet the
haloes occupy a small part of the box. Here the box is cut into a grid of about one median search
radius per cell (at most 128^3); each cell that meets a halo's search sphere lists that halo
(a compressed sparse-row table over those cells only), with a bit mask of the apertures that hold
the whole cell. A compiled kernel (numba) visits every particle once: wraps it into the box,
finds its cell through a two-level table (coarse cells, then blocks of fine cells only where
haloes are), tests it against the few haloes of that cell and adds its weights to the per-halo,
per-aperture sums: each block of particles into its own partial sums, added in block order, so
results do not depend on which thread ran which block (the blocks are fixed by the thread count:
one per thread, four per thread for the profile shells). Gas thermodynamics are fused into the
same pass (:mod:`pipeline.particles.gas_kernels`); the profile stage's spherical shells use the
same cell table (:meth:`HaloApertures.shell_sums`). Memory: the chunk's arrays, the partial sums
(blocks x haloes x apertures x weights doubles) and the cell table (well under 1 MB for a CAMELS
box).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

# numba caches compiled kernels beside this file; where the installed package is read-only (a
# shared software environment on a cluster) it would recompile in every job, so use a user cache
if "NUMBA_CACHE_DIR" not in os.environ and not os.access(os.path.dirname(__file__), os.W_OK):
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "scaling-pipeline", "numba")

from numba import njit  # noqa: E402

__all__ = ["HaloApertures", "for_blocks", "run_blocks", "shell_blocks"]


#: fine cells per side of a coarse cell. Particles come in no spatial order (Subfind orders them
#: by halo, and within a halo by binding energy), so the kernels are bound by random access to
#: the cell table: a flat 128^3 table (8 MB) misses the cache. Instead a coarse table (at most
#: 32^3 int32) points to blocks of COARSE^3 fine cells kept only where haloes are; together they
#: fit in the L2 cache.
COARSE = 4


@njit(cache=True, nogil=True)
def _slot_of(x, y, z, box, inv_cell, n, coarse_block, block_slot):
    """Slot of the cell holding (x, y, z) in the cell table (-1: no halo near), and the position
    wrapped into the box."""
    # snapshots store positions inside the box: the (slow) floor-modulo only for the rare others
    if x < 0.0 or x >= box:
        x = x % box
    if y < 0.0 or y >= box:
        y = y % box
    if z < 0.0 or z >= box:
        z = z % box
    ix = min(int(x * inv_cell), n - 1)
    iy = min(int(y * inv_cell), n - 1)
    iz = min(int(z * inv_cell), n - 1)
    blk = coarse_block[ix // COARSE, iy // COARSE, iz // COARSE]
    if blk < 0:
        return -1, x, y, z
    return block_slot[blk, ((ix % COARSE) * COARSE + iy % COARSE) * COARSE + iz % COARSE], x, y, z


@njit(cache=True, nogil=True)
def _min_image(d, box):
    # branch-free: particles straddle sphere edges at random, and mispredicted branches cost
    # more than the arithmetic (measured: 27 -> 19 ns per particle near haloes)
    return d - box * (d > 0.5 * box) + box * (d < -0.5 * box)


@njit(cache=True, nogil=True)
def _distance2(x, y, z, centres, h, box):
    """Squared periodic distance from (x, y, z) to the centre of halo ``h``."""
    dx = _min_image(x - centres[h, 0], box)
    dy = _min_image(y - centres[h, 1], box)
    dz = _min_image(z - centres[h, 2], box)
    return dx * dx + dy * dy + dz * dz


# The aperture test (slot_inside, then a distance only where the cell is not wholly inside) is
# written out in each kernel: as a function with its own loop numba compiles it as a call per
# candidate halo, which cost a quarter of the dark-matter kernel's time (0.39 -> 0.30 s).

#: particles located per batch before their haloes are visited, in the profile shells' kernels.
#: Their spheres cover the box, so nearly every particle has candidates: located one at a time,
#: each particle's table lookups (coarse cell, block, slot range, candidate haloes) wait for the
#: previous particle's data-dependent loop to resolve, while a batch's lookups are independent
#: loads that the CPU overlaps (measured on a CAMELS-size snapshot: the search 0.79 -> 0.52 s).
#: The aperture kernels do not batch: most particles there are far from every halo, the one
#: branch is predicted well, and the batch's extra stores cost 15%.
BATCH = 64


@njit(cache=True, nogil=True)
def _locate(pos, b0, b1, scale, box, inv_cell, n, coarse_block, block_slot, slot_start,
            slot_halo, slots, xyz):
    """Cell-table slots (``slots[:b1 - b0]``, -1: no halo near) and wrapped positions
    (``xyz``, float64) of particles [b0, b1), their positions times ``scale``."""
    touch = 0
    for i in range(b0, b1):
        j = i - b0
        s, x, y, z = _slot_of(np.float64(pos[i, 0]) * scale, np.float64(pos[i, 1]) * scale,
                              np.float64(pos[i, 2]) * scale, box, inv_cell, n, coarse_block,
                              block_slot)
        slots[j] = s
        xyz[j, 0] = x
        xyz[j, 1] = y
        xyz[j, 2] = z
        touch += slot_halo[slot_start[max(s, 0)]]  # brings the first candidate into cache
    slots[slots.shape[0] - 1] = touch  # a sink, so the load above is not optimised away


@njit(cache=True, nogil=True)
def _batch_scratch():
    """The ``slots`` and ``xyz`` arrays :func:`_locate` fills (one per kernel call)."""
    return np.empty(BATCH + 1, dtype=np.int64), np.empty((BATCH, 3))


@njit(cache=True, nogil=True)
def _select_block(pos, box, inv_cell, n, coarse_block, block_slot, slot_start, slot_halo,
                  slot_in_search, centres, r2_search, lo, hi, out):
    # out[i]: particle i lies inside some halo's search sphere (r2_search, one per halo)
    for i in range(lo, hi):
        s, x, y, z = _slot_of(pos[i, 0], pos[i, 1], pos[i, 2], box, inv_cell, n, coarse_block,
                              block_slot)
        if s < 0:
            continue
        for k in range(slot_start[s], slot_start[s + 1]):
            h = slot_halo[k]
            if slot_in_search[k] or _distance2(x, y, z, centres, h, box) <= r2_search[h]:
                out[i] = True
                break


@njit(cache=True, nogil=True)
def _accumulate_block(pos, weights, box, inv_cell, n, coarse_block, block_slot, slot_start,
                      slot_halo, slot_inside, centres, r2, lo, hi, partial):
    # particles [lo, hi) into partial (halo, aperture, weight)
    n_ap = r2.shape[1]
    n_w = weights.shape[0]
    for i in range(lo, hi):
        s, x, y, z = _slot_of(pos[i, 0], pos[i, 1], pos[i, 2], box, inv_cell, n, coarse_block,
                              block_slot)
        if s < 0:
            continue
        for k in range(slot_start[s], slot_start[s + 1]):
            h = slot_halo[k]
            inside = slot_inside[k]
            if inside != (1 << n_ap) - 1:
                d2 = _distance2(x, y, z, centres, h, box)
                for a in range(n_ap):
                    inside |= (d2 <= r2[h, a]) << a
            for a in range(n_ap):
                # adding zero is cheaper than a branch mispredicted at random sphere edges
                held = 1.0 * ((inside >> a) & 1)
                for w in range(n_w):
                    partial[h, a, w] += held * weights[w, i]


@njit(cache=True, nogil=True)
def _shell_block(pos, weights, box, inv_cell, n, coarse_block, block_slot, slot_start,
                 slot_halo, centres, edges2, lo, hi, partial):
    # per halo and spherical shell [edges[j], edges[j + 1]): the weights' sums and the particle
    # count (last column) of particles [lo, hi)
    n_shell = edges2.shape[0] - 1
    n_w = weights.shape[0]
    r2_lo, r2_hi = edges2[0], edges2[n_shell]
    slots, xyz = _batch_scratch()
    for b0 in range(lo, hi, BATCH):
        b1 = min(b0 + BATCH, hi)
        _locate(pos, b0, b1, 1.0, box, inv_cell, n, coarse_block, block_slot, slot_start,
                slot_halo, slots, xyz)
        for i in range(b0, b1):
            s = slots[i - b0]
            if s < 0:
                continue
            x, y, z = xyz[i - b0, 0], xyz[i - b0, 1], xyz[i - b0, 2]
            for k in range(slot_start[s], slot_start[s + 1]):
                h = slot_halo[k]
                d2 = _distance2(x, y, z, centres, h, box)
                if d2 < r2_lo or d2 >= r2_hi:
                    continue
                shell = 0  # branch-free: the shell with edges2[shell] <= d2
                for j in range(1, n_shell):
                    shell += edges2[j] <= d2
                for w in range(n_w):
                    partial[h, shell, w] += weights[w, i]
                partial[h, shell, n_w] += 1.0


def for_blocks(n_part: int, blocks: int, work, threads: int | None = None) -> None:
    """Call ``work(b, lo, hi)`` for ``blocks`` fixed, contiguous blocks [lo, hi) of ``n_part``
    particles, on ``threads`` threads (default: one per block; the kernels run without the GIL):
    the calling thread and a pool kept for the process take the next block as they come free.

    numba's own parallel loops would do the same, but compiling them costs ~15 s on first use in
    every fresh environment and ~0.3 s of loading in every process afterwards; these serial
    kernels compile in a few seconds. The pool is kept because starting threads per call waited
    for them to be scheduled on busy cores: ~0.1 s of a 0.7 s ingest of a CAMELS snapshot.
    """
    blocks = max(1, int(blocks))
    threads = blocks if threads is None else max(1, min(int(threads), blocks))
    bounds = [(b * n_part // blocks, (b + 1) * n_part // blocks) for b in range(blocks)]
    queue = iter(range(blocks))
    lock = threading.Lock()

    def drain() -> None:
        while True:
            with lock:
                b = next(queue, None)
            if b is None:
                return
            work(b, *bounds[b])

    futures = [_worker_pool(threads - 1).submit(drain) for _ in range(threads - 1)]
    try:
        drain()
    finally:
        for future in futures:  # every block ends (or fails) before the caller goes on
            future.exception()
    for future in futures:
        future.result()


_POOL: dict[str, Any] = {"size": 0, "executor": None, "pid": None}


def _worker_pool(workers: int):
    """A thread pool of at least ``workers`` threads, kept for the process (None for 0). A
    forked child makes its own: the parent's threads do not exist there."""
    if workers < 1:
        return None
    if _POOL["size"] < workers or _POOL["pid"] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        if _POOL["executor"] is not None and _POOL["pid"] == os.getpid():
            _POOL["executor"].shutdown(wait=False)
        _POOL.update(size=workers, executor=ThreadPoolExecutor(workers, "particle-blocks"),
                     pid=os.getpid())
    return _POOL["executor"]


def shell_blocks(threads: int) -> int:
    """Blocks of particles for the profile shells' kernels on ``threads`` threads: four per
    thread, taken as threads come free. Their spheres cover the box, so every block is a full
    load, and one thread running ~30% slower than the other (a core shared with the chunk
    reader) left the other idle at each chunk's end (shell sums of a CAMELS-size snapshot on
    2 threads: 0.93 -> 0.72 s). The sums depend on the thread count only, as before."""
    threads = max(1, int(threads))
    return 1 if threads == 1 else 4 * threads


def run_blocks(kernel, n_part: int, blocks: int, shape: tuple[int, ...], *args,
               threads: int | None = None) -> np.ndarray:
    """Sum of ``kernel(*args, lo, hi, partial)`` over the blocks of :func:`for_blocks`, each block
    into its own zeroed ``partial`` of ``shape``. The partial sums are added in block order, so
    the result depends on ``blocks`` (to rounding), never on the threads' scheduling."""
    partial = np.zeros((max(1, int(blocks)), *shape))
    for_blocks(n_part, blocks, lambda b, lo, hi: kernel(*args, lo, hi, partial[b]), threads)
    return partial.sum(axis=0)


class HaloApertures:
    """Spheres of several apertures around each halo, for summing particle quantities.

    Parameters
    ----------
    centres : (h, 3) array, halo centres in code length units (ckpc/h).
    apertures : aperture name -> (h,) radius of each halo's sphere, same units.
    box : periodic box side, same units.
    n_cells : grid cells per side (default: the box over the median search radius, between 8
        and 128: smaller cells mean fewer distance tests, a larger table more cache misses).
    """

    def __init__(self, centres: np.ndarray, apertures: dict[str, np.ndarray], box: float,
                 n_cells: int | None = None):
        self.box = float(box)
        self.names = list(apertures)
        self.centres = np.ascontiguousarray(np.mod(np.asarray(centres, dtype=np.float64), self.box))
        radii = np.column_stack([np.asarray(apertures[a], dtype=np.float64) for a in self.names])
        if radii.shape[0] != len(self.centres):
            raise ValueError("every aperture needs one radius per halo")
        if radii.shape[1] > 30:
            raise ValueError("at most 30 apertures (one bit each in the cell table)")
        if np.any(~(radii > 0)):
            raise ValueError("aperture radii must be positive")
        self.r2 = np.ascontiguousarray(radii**2)
        r_search = radii.max(axis=1)
        self.r2_search = r_search**2
        if n_cells is None:
            n_cells = int(np.clip(self.box / max(np.median(r_search), 1e-12), 8, 128))
        self.n = int(n_cells)
        self.inv_cell = self.n / self.box
        self._build_cell_table(r_search)

    def _build_cell_table(self, r_search: np.ndarray) -> None:
        """Every (cell, halo) pair whose cell meets the halo's search sphere, with a bit mask of
        the apertures that contain the whole cell (their particles need no distance test).
        Built without a Python loop: per halo an (Lx, Ly, Lz) block of cells of its bounding box,
        in unwrapped cell indices (so the geometry needs no periodic images), wrapped at the end."""
        n, cell = self.n, self.box / self.n
        lo = np.floor((self.centres - r_search[:, None]) * self.inv_cell).astype(np.int64)
        hi = np.floor((self.centres + r_search[:, None]) * self.inv_cell).astype(np.int64)
        extent = np.minimum(hi - lo + 1, n)
        # a sphere about as wide as the box: its block covers each cell once, no pruning
        wide = (hi - lo + 1 >= n).any(axis=1)
        count = extent.prod(axis=1)
        halo_all = np.repeat(np.arange(len(count), dtype=np.int64), count)
        k = np.arange(count.sum(), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        ey, ez = extent[halo_all, 1], extent[halo_all, 2]
        idx = np.stack([lo[halo_all, 0] + k // (ey * ez), lo[halo_all, 1] + (k // ez) % ey,
                        lo[halo_all, 2] + k % ez])
        # nearest and farthest point of each cell from the centre; cells are widened by a hair
        # so that rounding in a particle's cell index cannot put it outside its cell's bounds
        eps = 1e-9 * cell
        below = idx * cell - eps - self.centres[halo_all].T
        above = below + cell + 2 * eps
        near2 = (np.maximum(0.0, np.maximum(below, -above)) ** 2).sum(axis=0)
        far2 = (np.maximum(np.abs(below), np.abs(above)) ** 2).sum(axis=0)
        useful = wide[halo_all] | (near2 <= self.r2_search[halo_all])
        contained = (far2[:, None] <= self.r2[halo_all]) & ~wide[halo_all, None]
        mask = (contained.astype(np.int64) << np.arange(self.r2.shape[1])).sum(axis=1)
        idx, halo_all, mask = idx[:, useful] % n, halo_all[useful], mask[useful]
        cells_all = (idx[0] * n + idx[1]) * n + idx[2]
        order = np.argsort(cells_all, kind="stable")
        cells_all = cells_all[order]
        unique_cells, starts = np.unique(cells_all, return_index=True)
        self.slot_start = np.append(starts, len(cells_all)).astype(np.int32)
        self.slot_halo = halo_all[order].astype(np.int32)  # half the cache footprint of int64
        self.slot_inside = mask[order].astype(np.int32)
        # for select(): one aperture, the search sphere, which holds a cell when any aperture does
        self._search_inside = (self.slot_inside != 0).astype(np.int32)
        self.volume_fraction = len(unique_cells) / n**3
        ix, iy, iz = unique_cells // (n * n), (unique_cells // n) % n, unique_cells % n
        nc = -(-n // COARSE)
        coarse_flat = ((ix // COARSE) * nc + iy // COARSE) * nc + iz // COARSE
        blocks, block_of = np.unique(coarse_flat, return_inverse=True)
        self.coarse_block: np.ndarray = np.full(nc**3, -1, dtype=np.int32)
        self.coarse_block[blocks] = np.arange(len(blocks), dtype=np.int32)
        self.coarse_block = self.coarse_block.reshape(nc, nc, nc)
        self.block_slot = np.full((len(blocks), COARSE**3), -1, dtype=np.int32)
        fine = ((ix % COARSE) * COARSE + iy % COARSE) * COARSE + iz % COARSE
        self.block_slot[block_of, fine] = np.arange(len(unique_cells), dtype=np.int32)

    def _grid(self):
        return (self.box, self.inv_cell, self.n, self.coarse_block, self.block_slot, self.slot_start,
                self.slot_halo, self.slot_inside, self.centres)

    def select(self, positions: np.ndarray, threads: int = 1) -> np.ndarray:
        """Indices of the particles inside at least one halo's largest aperture. ``positions``
        (n, 3), any float dtype, may lie outside [0, box) (they are wrapped). ``threads``: CPU
        threads of the scan (the result does not depend on it)."""
        if len(positions) == 0 or len(self.centres) == 0:
            return np.zeros(0, dtype=np.int64)
        box, inv_cell, n, coarse_block, block_slot, start, halo, _, centres = self._grid()
        positions = np.ascontiguousarray(positions)
        inside = np.zeros(len(positions), dtype=np.bool_)
        # particles are independent: any split gives the same selection
        for_blocks(len(positions), threads, lambda b, lo, hi: _select_block(
            positions, box, inv_cell, n, coarse_block, block_slot, start, halo, self._search_inside,
            centres, self.r2_search, lo, hi, inside))
        return np.flatnonzero(inside)

    def shell_sums(self, positions: np.ndarray, weights: np.ndarray, edges: np.ndarray,
                   threads: int = 1) -> np.ndarray:
        """(h, len(edges) - 1, w + 1): per halo and spherical shell between consecutive
        ``edges`` (same length unit, the last at most the search radius), the sums of each row
        of ``weights`` (w, n) over the particles at ``positions`` (n, 3) in the shell, and their
        count (last column). Same cell table and blocks as :meth:`sums`."""
        edges = np.asarray(edges, dtype=np.float64)
        n_w = np.atleast_2d(weights).shape[0]
        if len(positions) == 0 or len(self.centres) == 0:
            return np.zeros((len(self.centres), len(edges) - 1, n_w + 1))
        if edges[-1] ** 2 > self.r2_search.min() * (1 + 1e-12):
            raise ValueError("the outermost shell edge exceeds a halo's search radius")
        box, inv_cell, n, coarse_block, block_slot, start, halo, _, centres = self._grid()
        weights = np.ascontiguousarray(np.atleast_2d(weights), dtype=np.float64)
        return run_blocks(_shell_block, len(positions), shell_blocks(threads),
                          (len(centres), len(edges) - 1, n_w + 1),
                          np.ascontiguousarray(positions, dtype=np.float64), weights, box, inv_cell,
                          n, coarse_block, block_slot, start, halo, centres, edges**2,
                          threads=threads)

    def sums(self, positions: np.ndarray, weights: dict[str, np.ndarray],
             threads: int = 1) -> dict[str, np.ndarray]:
        """Per-halo sums ``{f"{weight}@{aperture}": (h,) array}`` of per-particle ``weights``
        over the particles at ``positions`` inside each aperture. With ``threads`` > 1 the
        particles are summed in that many blocks (results equal to rounding)."""
        out = np.zeros((len(self.centres), len(self.names), len(weights)))
        if len(positions) and len(self.centres):
            columns = [np.asarray(v, dtype=np.float64) for v in weights.values()]
            # one weight (dark matter, stars): a view, not a copy
            w = columns[0].reshape(1, -1) if len(columns) == 1 else np.vstack(columns)
            out = run_blocks(_accumulate_block, len(positions), threads, out.shape,
                             np.ascontiguousarray(positions), w, *self._grid(), self.r2)
        return {f"{name}@{a}": out[:, j, k] for k, name in enumerate(weights)
                for j, a in enumerate(self.names)}
