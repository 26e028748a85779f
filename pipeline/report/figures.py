"""Figures of the report: feature importances, Pareto front, scatter versus mass."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from matplotlib.figure import Figure

from ..discovery.sr.expressions import LATEX_SYMBOLS

__all__ = ["importance_figure", "pareto_figure", "scatter_figure", "residual_parameter_figure",
           "label", "FEEDBACK_PARAMETERS", "profile_comparison_figure"]

FEEDBACK_PARAMETERS = ("A_SN1", "A_AGN1", "A_SN2", "A_AGN2")

BASE_COLOUR, DISC_COLOUR = "#7f7f7f", "#d62728"


def label(name: str) -> str:
    """Mathtext label of a column."""
    sym = LATEX_SYMBOLS.get(name)
    return f"${sym}$" if sym else name


def importance_figure(rank: Table, title: str) -> Figure:
    """Held-out permutation importance per feature (mean, 68% interval over folds x shuffles),
    the grouped importance of its correlated group, and impurity importance for reference."""
    fig = Figure(figsize=(7.0, 3.6))
    ax = fig.add_subplot()
    n = len(rank)
    yy = np.arange(n)[::-1]
    mean = np.asarray(rank["permutation_mean"], dtype=float)
    if "permutation_lo" in rank.colnames:
        err = np.vstack([mean - rank["permutation_lo"], rank["permutation_hi"] - mean])
    else:
        err = np.asarray(rank["permutation_std"], dtype=float)
    ax.barh(yy + 0.2, mean, 0.4, xerr=np.clip(err, 0, None), color=DISC_COLOUR,
            label="permutation (held-out folds, 68%)")
    ax.barh(yy - 0.2, rank["impurity_mean"], 0.4, xerr=rank["impurity_std"],
            color=BASE_COLOUR, label="impurity (spread over trees)")
    groups = rank.meta.get("groups", [])
    shared = {f: i for i, g in enumerate(groups) if len(g) > 1 for f in g}
    if "group_importance" in rank.colnames and shared:
        rows = [i for i, f in enumerate(rank["feature"]) if f in shared]
        ax.scatter(np.asarray(rank["group_importance"])[rows], yy[rows] + 0.2, marker="D",
                   color="k", s=14, zorder=3, label="its correlated group, shuffled together")
    names = []
    for f, s in zip(rank["feature"], rank["selected"], strict=True):
        tag = f" [g{shared[f] + 1}]" if f in shared else ""
        names.append(label(f) + tag + (" *" if s else ""))
    ax.set_yticks(yy, names)
    ax.set_xlabel("importance (permutation: drop in $R^2$; impurity: normalised)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
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


PUB_COLOUR = "#3465a4"


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
        series = [("base_frac", BASE_COLOUR, "self-similar", -0.03),
                  ("disc_frac", DISC_COLOUR, "discovered", 0.03)]
        if "pub_frac" in sel.colnames and np.isfinite(np.asarray(sel["pub_frac"], float)).any():
            series.insert(1, ("pub_frac", PUB_COLOUR, r"$Y^{3/5}(1-Ac_{\rm gas})$ (W23)", 0.0))
        for key, colour, name, dx in series:
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


def _binned_mean(x: np.ndarray, y: np.ndarray, max_unique: int = 15, n_bins: int = 8):
    """Mean and standard error of y at each distinct x (few values, as in 1P sets) or in
    quantile bins of x (many values, as in LH sets)."""
    values = np.unique(x)
    if len(values) <= max_unique:
        groups = [x == v for v in values]
        centres = values
    else:
        edges = np.quantile(x, np.linspace(0, 1, n_bins + 1))
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
        groups = [idx == i for i in range(n_bins)]
        centres = np.array([np.median(x[g]) if g.any() else np.nan for g in groups])
    mean = np.array([y[g].mean() if g.any() else np.nan for g in groups])
    err = np.array([y[g].std(ddof=1) / np.sqrt(g.sum()) if g.sum() > 1 else np.nan for g in groups])
    return centres, mean, err


def residual_parameter_figure(residuals: Table, suites: list[str], title: str) -> Figure | None:
    """Mean residual (normalisation refitted) against each feedback parameter that varies, for
    the baseline and the discovered relation; one row of panels per suite. None if no parameter
    varies."""
    params = [p for p in FEEDBACK_PARAMETERS
              if p in residuals.colnames and np.nanstd(np.asarray(residuals[p], dtype=float)) > 0]
    if not params:
        return None
    fig = Figure(figsize=(7.0, 1.9 * len(suites) + 0.7))
    for i, suite in enumerate(suites):
        sub = residuals[residuals["suite"] == suite]
        for j, p in enumerate(params):
            ax = fig.add_subplot(len(suites), len(params), i * len(params) + j + 1)
            x = np.asarray(sub[p], dtype=float)
            for key, colour, name, dx in (("resid_base_refit", BASE_COLOUR, "self-similar", -0.01),
                                          ("resid_disc_refit", DISC_COLOUR, "discovered", 0.01)):
                c, m, e = _binned_mean(np.log10(x), np.asarray(sub[key], dtype=float))
                ax.errorbar(c + dx, m, yerr=e, fmt="o-", ms=3, lw=1, color=colour, label=name,
                            capsize=1.5)
            ax.axhline(0.0, color="k", lw=0.5)
            if i == len(suites) - 1:
                ax.set_xlabel(r"$\log_{10}$" + label(p))
            if j == 0:
                ax.set_ylabel(f"{suite}\nmean residual [dex]", fontsize=8)
            ax.tick_params(labelsize=7)
            if i == 0 and j == 0:
                ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


_SUITE_COLOURS = {"IllustrisTNG": "#1f77b4", "SIMBA": "#ff7f0e", "Astrid": "#2ca02c"}
_PROFILE_ROWS = (("density_mean", r"$\rho_{\rm gas}$ [M$_\odot$ kpc$^{-3}$]"),
                 ("pressure_mean", r"$P_{\rm th}$ [M$_\odot$ kpc$^{-1}$ s$^{-2}$]"),
                 ("temperature_mean", r"$T_{\rm mw}$ [K]"))


def profile_comparison_figure(mock: Table, reference: Table | None, title: str) -> Figure:
    """Stacked gas profiles of the study (per suite: median over simulations of each stack's mean
    profile, band 16-84% over simulations) against real CAMELS fiducial stacks (dashed), per
    mass bin (columns) and quantity (rows)."""
    bins = list(dict.fromkeys(np.asarray(mock["mass_bin"]).tolist()))
    fig = Figure(figsize=(max(2.1 * len(bins) + 0.8, 7.0), 6.6))
    axes = fig.subplots(len(_PROFILE_ROWS), len(bins), sharex="col", squeeze=False)
    for j, mass_bin in enumerate(bins):
        for i, (col, ylabel) in enumerate(_PROFILE_ROWS):
            ax = axes[i, j]
            for suite in dict.fromkeys(np.asarray(mock["suite"]).tolist()):
                sel = mock[(mock["suite"] == suite) & (mock["mass_bin"] == mass_bin)]
                if len(sel) == 0:
                    continue
                r = np.unique(np.asarray(sel["r"], dtype=float))
                per_sim = [np.interp(r, np.asarray(sel["r"][sel["sim"] == s], dtype=float),
                                     np.asarray(sel[col][sel["sim"] == s], dtype=float))
                           for s in np.unique(sel["sim"])]
                with np.errstate(invalid="ignore"):
                    lo, mid, hi = np.nanpercentile(np.asarray(per_sim), [16, 50, 84], axis=0)
                colour = _SUITE_COLOURS.get(suite, "k")
                ax.plot(r, mid, color=colour, lw=1.2, label=f"{suite} (study)")
                ax.fill_between(r, lo, hi, color=colour, alpha=0.2, lw=0)
            if reference is not None:
                for suite in dict.fromkeys(np.asarray(reference["suite"]).tolist()):
                    sel = reference[(reference["suite"] == suite)
                                    & (reference["mass_bin"] == mass_bin)]
                    if len(sel):
                        ax.plot(np.asarray(sel["r"], dtype=float), np.asarray(sel[col], dtype=float),
                                color=_SUITE_COLOURS.get(suite, "k"), ls="--", lw=1.0,
                                label=f"{suite} (CAMELS 1P fiducial)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlim(0.01, 2.5)
            ax.tick_params(labelsize=6)
            if i == 0:
                ax.set_title(f"log M200c {mass_bin}", fontsize=8)
            if j == 0:
                ax.set_ylabel(ylabel, fontsize=7)
            if i == len(_PROFILE_ROWS) - 1:
                ax.set_xlabel("r [Mpc]", fontsize=7)
    handles, labels = [], []
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    axes[0, 0].legend(handles, labels, fontsize=5.5, frameon=False, loc="lower left")
    fig.suptitle(title, fontsize=9)
    return fig
