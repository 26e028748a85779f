"""Cross-validation folds whose sampling unit is the simulation.

Haloes of one simulation share its cosmology and feedback parameters (and, across snapshots,
their progenitors): a fold that puts some of them in training and others in testing measures
how well a model interpolates within a simulation, not how it generalises to a new one. Every
cross-validation of the discovery stage (the ranking forest, the mock's noise floor) therefore
keeps each simulation on one side.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

__all__ = ["simulation_folds"]

log = logging.getLogger(__name__)


def simulation_folds(groups: np.ndarray | None, n: int, n_folds: int,
                     seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """(train, test) index pairs over ``n`` rows and a one-line description of the split.

    ``groups``: each row's simulation (suite and name: the same name in two suites is two
    simulations). Folds by group, ``min(n_folds, number of groups)`` of them, groups assigned
    to folds at random (seeded) with balanced sizes; with fewer than two groups (or none
    given), folds by row, said so in the description and the log."""
    if groups is not None:
        names, index = np.unique(np.asarray(groups).astype(str), return_inverse=True)
        if len(names) >= 2:
            k = min(n_folds, len(names))
            # relabel the groups in a seeded random order: GroupKFold then balances sizes
            # without always putting the same simulations together
            perm = np.random.default_rng(seed).permutation(len(names))
            folds = list(GroupKFold(n_splits=k).split(np.zeros(n), groups=perm[index]))
            return folds, f"{k} folds by simulation ({len(names)} simulations)"
        log.warning("cross-validation: only %d simulation(s), folds by halo instead", len(names))
    k = min(n_folds, max(2, n // 5))
    folds = list(KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)))
    return folds, f"{k} folds by halo" + ("" if groups is None else " (fewer than 2 simulations)")
