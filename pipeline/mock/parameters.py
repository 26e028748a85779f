"""Simulation parameters of a mock set: a Latin hypercube, as the CAMELS LH sets are drawn."""

from __future__ import annotations

import zlib

import numpy as np

from ..columns import LOG_UNIFORM_PARAMETERS

__all__ = ["latin_hypercube_params", "LOG_UNIFORM"]

#: parameters drawn log-uniformly (the feedback amplitudes); others uniformly.
LOG_UNIFORM = frozenset(LOG_UNIFORM_PARAMETERS)


def latin_hypercube_params(
    sims: list[str], ranges: dict[str, list[float]], seed: int, suite: str
) -> dict[str, dict[str, float]]:
    """One parameter row per simulation: each parameter's range is cut into ``len(sims)`` strata,
    each stratum used once (Latin hypercube), in random order per parameter.

    Returns ``{sim: {param: value, ..., 'seed': int}}``.
    """
    rng = np.random.default_rng([seed, zlib.crc32(suite.encode()), 7])
    n = len(sims)
    out: dict[str, dict[str, float]] = {s: {} for s in sims}
    for name, (lo, hi) in ranges.items():
        if hi < lo:
            raise ValueError(f"parameter range of {name} runs backwards: {lo}..{hi}")
        strata = (rng.permutation(n) + rng.uniform(size=n)) / n
        if name in LOG_UNIFORM:
            values = np.exp(np.log(lo) + strata * (np.log(hi) - np.log(lo)))
        else:
            values = lo + strata * (hi - lo)
        for sim, v in zip(sims, values, strict=True):
            out[sim][name] = float(v)
    for sim in sims:
        out[sim]["seed"] = int(rng.integers(0, 2**31 - 1))
    return out
