"""Sample-identifying features: what tells the training samples apart at fixed x.

With two or more training samples (two codes, or a code at two resolutions), a feature whose
value at fixed x says which sample a halo comes from lets a relation carry each sample's offset
through it: metallicity and temperature separate IllustrisTNG from SIMBA at fixed Y, so an
equation built on them fits both training codes and can fail on a third set where they mean
something else (trained on both CAMELS 1P codes, the mass at fixed Y on the TNG LH set got worse
than Y alone: README, studies across cosmologies).

Score of a feature f, "f alone at fixed x": f's dependence on x is removed with a cubic
polynomial in x fitted on the pooled training samples, out of fold (folds by simulation,
:mod:`.folds`: each halo's residual comes from the fit that did not see its simulation); the
score is Somers' D of those residuals between two samples, |2 AUC - 1| in [0, 1] (0: the samples'
residuals are indistinguishable; 1: every halo of one sample lies above every halo of the other),
the largest over pairs of samples with more than two. A feature is flagged when its score reaches
``threshold`` (``rank.identify_threshold``, default 0.4, i.e. AUC 0.7; ``rank.sample_identifying:
exclude`` then keeps it out of symbolic regression). The default is measured on the two CAMELS 1P
codes, where metallicity, temperature, gas mass and c_gas score 0.48-0.77 and Y500/Y200 0.22,
and on the default mock, where no feature scores above 0.28 (README). The sign of the AUC is not
cross-validated: with the hundreds of haloes of a study its optimism is below 0.01.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from sklearn.metrics import roc_auc_score

from .folds import simulation_folds

__all__ = ["sample_identification", "residual_at_fixed_x"]


def residual_at_fixed_x(x: np.ndarray, f: np.ndarray, folds) -> np.ndarray:
    """Out-of-fold residuals of ``f`` about a cubic in ``x`` (standardised), per row."""
    z = (x - x.mean()) / (x.std() or 1.0)
    out = np.empty(len(f))
    for train, test in folds:
        coef = np.polyfit(z[train], f[train], deg=3 if len(np.unique(z[train])) > 3 else 0)
        out[test] = f[test] - np.polyval(coef, z[test])
    return out


def sample_identification(x_rel: np.ndarray, features: np.ndarray, names: list[str],
                          samples: np.ndarray, sims: np.ndarray | None, folds: int = 5,
                          seed: int = 0) -> dict[str, float]:
    """Per feature (columns of ``features`` (n, k), named ``names``), the score of the module
    docstring at fixed ``x_rel`` (n,). ``samples``: each row's training sample (two or more
    distinct); ``sims``: each row's simulation (the fold unit)."""
    labels = np.asarray(samples).astype(str)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError("sample identification needs two or more training samples")
    split, _ = simulation_folds(sims, len(labels), folds, seed)
    x = np.asarray(x_rel, dtype=float)
    scores = {}
    for i, name in enumerate(names):
        resid = residual_at_fixed_x(x, np.asarray(features[:, i], dtype=float), split)
        best = 0.0
        for a, b in combinations(classes, 2):
            pair = (labels == a) | (labels == b)
            auc = roc_auc_score(labels[pair] == a, resid[pair])
            best = max(best, abs(2.0 * auc - 1.0))
        scores[name] = float(best)
    return scores
