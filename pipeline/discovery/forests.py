"""Random-forest predictions that are the same to the last bit at any thread count.

scikit-learn's forest adds its trees' predictions from parallel threads in completion order, so
the last bits of a prediction (and everything computed from it: permutation importances, noise
floors) change from run to run. Here the trees predict in parallel but are summed in tree order.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["forest_predict"]


def forest_predict(forest, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """Mean prediction of the fitted regression ``forest``'s trees for ``x`` (n, k), summed in
    tree order (trees predict in ``threads`` threads; their compiled code releases the GIL)."""
    x = np.asarray(x, dtype=np.float32)  # the trees' own dtype: no per-tree conversion
    trees = forest.estimators_
    if threads <= 1:
        parts = [t.predict(x, check_input=False) for t in trees]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(lambda t: t.predict(x, check_input=False), trees))
    total = np.zeros(len(x))
    for p in parts:
        total += p
    return total / len(trees)
