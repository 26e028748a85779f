"""Figures of the report: feature importances, Pareto front, scatter versus mass."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from matplotlib.figure import Figure

from ..sr.expressions import LATEX_SYMBOLS

__all__ = ["importance_figure", "pareto_figure", "scatter_figure", "label"]

BASE_COLOUR, DISC_COLOUR = "#7f7f7f", "#d62728"


def label(name: str) -> str:
    """Mathtext label of a column."""
    sym = LATEX_SYMBOLS.get(name)
    return f"${sym}$" if sym else name


def importance_figure(rank: Table, title: str) -> Figure:
    """Horizontal bars of permutation and impurity importances (mean +- std)."""
    fig = Figure(figsize=(7.0, 3.6))
    ax = fig.add_subplot()
    n = len(rank)
    yy = np.arange(n)[::-1]
    ax.barh(yy + 0.2, rank["permutation_mean"], 0.4, xerr=rank["permutation_std"],
            color=DISC_COLOUR, label="permutation (held-out split)")
    ax.barh(yy - 0.2, rank["impurity_mean"], 0.4, xerr=rank["impurity_std"],
            color=BASE_COLOUR, label="impurity (spread over trees)")
    names = [label(f) + (" *" if s else "") for f, s in zip(rank["feature"], rank["selected"], strict=True)]
    ax.set_yticks(yy, names)
    ax.set_xlabel("importance (permutation: drop in $R^2$; impurity: normalised)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def pareto_figure(front: Table, title: str) -> Figure:
    """Validation and training loss against complexity; the chosen equation marked."""
    fig = Figure(figsize=(7.0, 3.4))
    ax = fig.add_subplot()
    ax.plot(front["complexity"], front["loss_val"], "o-", color=DISC_COLOUR, label="validation MSE")
    ax.plot(front["complexity"], front["loss_train"], "s--", color=BASE_COLOUR, ms=4,
            label="training MSE")
    chosen = np.asarray(front["chosen"], dtype=bool)
    ax.plot(np.asarray(front["complexity"])[chosen], np.asarray(front["loss_val"])[chosen], "*",
            ms=16, color="gold", mec="k", label="chosen")
    ax.set_yscale("log")
    ax.set_xlabel("complexity (expression-tree nodes)")
    ax.set_ylabel("MSE of the residual [dex$^2$]")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def scatter_figure(evaluation: Table, suites: list[str], constants: str, title: str) -> Figure:
    """Fractional scatter per mass bin for each suite: baseline vs discovered, with intervals."""
    fig = Figure(figsize=(7.0, 2.6 * ((len(suites) + 1) // 2) + 0.6))
    ncol = 2 if len(suites) > 1 else 1
    nrow = (len(suites) + ncol - 1) // ncol
    for i, suite in enumerate(suites):
        ax = fig.add_subplot(nrow, ncol, i + 1)
        sel = evaluation[(evaluation["suite"] == suite) & (evaluation["constants"] == constants)
                         & (evaluation["bin"] == "bin")]
        mid = 0.5 * (np.asarray(sel["log10_M_lo"]) + np.asarray(sel["log10_M_hi"]))
        half = 0.5 * (np.asarray(sel["log10_M_hi"]) - np.asarray(sel["log10_M_lo"]))
        for key, colour, name, dx in (("base_frac", BASE_COLOUR, "self-similar", -0.02),
                                      ("disc_frac", DISC_COLOUR, "discovered", 0.02)):
            v = np.asarray(sel[key], dtype=float)
            err = np.vstack([v - np.asarray(sel[f"{key}_lo"]), np.asarray(sel[f"{key}_hi"]) - v])
            ax.errorbar(mid + dx, v, yerr=err, xerr=half, fmt="o", color=colour, label=name,
                        capsize=2, lw=1)
        role = sel["role"][0] if len(sel) else ""
        ax.set_title(f"{suite} ({role})", fontsize=9)
        ax.set_xlabel(r"$\log_{10}(M_{200c}/M_\odot)$")
        ax.set_ylabel(r"$\sigma(M_{\rm pred}/M_{\rm true}-1)$")
        ax.set_ylim(bottom=0)
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
