"""Figures of the report: feature importances, Pareto front, metrics versus mass, the reduction
per simulation, residuals versus simulation parameters, stacked profiles."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from astropy.table import Table
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..columns import PARAMETER_COLUMNS
from ..columns.symbols import LATEX_SYMBOLS
from ..discovery.records import RankMeta
from ..discovery.sr.record import SRMeta
from ..io.atomic import atomic_path

__all__ = ["save_svg", "importance_figure", "pareto_figure", "evaluation_figure",
           "per_simulation_figure",
           "residual_parameter_figure", "label", "SIMULATION_PARAMETERS",
           "RELATION_STYLE", "profile_comparison_figure"]

#: Every simulation parameter a residual is shown against when it varies in the study.
SIMULATION_PARAMETERS = PARAMETER_COLUMNS

BASE_COLOUR, DISC_COLOUR = "#7f7f7f", "#d62728"


def save_svg(fig: Figure, path: Path) -> None:
    """``fig`` as SVG at ``path`` (atomically), text as paths, element ids from a fixed salt and
    no date: the same figure gives the same bytes."""
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "report"}), \
            atomic_path(path) as tmp:
        fig.savefig(tmp, format="svg", metadata={"Date": None})


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
    groups = RankMeta.from_meta(rank.meta).groups
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
    left_out = SRMeta.from_meta(front.meta).validation_split.startswith("leave one sample out")
    ax.plot(front["complexity"], front["loss_val"], "o-", color=DISC_COLOUR,
            label="left-out MSE" if left_out else "validation MSE")
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


#: How each relation of the evaluate stage is drawn: (colour, marker, label).
RELATION_STYLE = {
    "baseline": (BASE_COLOUR, "o", "self-similar"),
    "discovered": (DISC_COLOUR, "o", "discovered"),
    "blackbox": ("#000000", "s", "black box (forest, same features)"),
    "published": ("#3465a4", "D", r"$Y^{3/5}(1-Ac_{\rm gas})$ (W23)"),
    "alternative": ("#e69f00", "^", "discovered, other slope constraint"),
    "floor": ("#2ca02c", "v", "noise floor (mock latents)"),
}

METRIC_LABELS = {
    "scatter_log": "scatter [dex]",
    "rms_log": "rms, constants as trained [dex]",
    "bias_log": "bias [dex]",
    "scatter_frac": r"$\sigma$/mean of pred/true",
}


def _relations_in(evaluation: Table) -> list[str]:
    present = list(dict.fromkeys(np.asarray(evaluation["relation"]).astype(str).tolist()))
    return [r for r in RELATION_STYLE if r in present] + [r for r in present
                                                           if r not in RELATION_STYLE]


def _metric_panel(ax, evaluation: Table, sample: str, metric: str, legend: bool) -> None:
    """``metric`` per mass bin of every relation of ``sample``, 68% intervals."""
    relations = _relations_in(evaluation)
    offsets = np.linspace(-0.05, 0.05, max(len(relations), 1))
    for rel, dx in zip(relations, offsets, strict=True):
        sel = evaluation[(evaluation["sample"] == sample) & (evaluation["bin"] == "bin")
                         & (evaluation["relation"] == rel)]
        if len(sel) == 0:
            continue
        lo_m, hi_m = np.asarray(sel["log10_M_lo"], float), np.asarray(sel["log10_M_hi"], float)
        v = np.asarray(sel[metric], dtype=float)
        err = np.vstack([v - np.asarray(sel[f"{metric}_lo68"], float),
                         np.asarray(sel[f"{metric}_hi68"], float) - v])
        colour, marker, name = RELATION_STYLE.get(rel, ("#999999", "x", rel))
        ax.errorbar(0.5 * (lo_m + hi_m) + dx, v, yerr=np.clip(np.nan_to_num(err), 0, None),
                    xerr=0.5 * (hi_m - lo_m), fmt=marker, ms=3.5, color=colour, label=name,
                    capsize=1.5, lw=0.9, mfc="none" if rel in ("blackbox", "floor") else colour)
    ax.set_xlabel(r"$\log_{10}(M_{200c}/M_\odot)$", fontsize=8)
    ax.set_ylabel(METRIC_LABELS.get(metric, metric), fontsize=7.5)
    ax.tick_params(labelsize=7)
    if metric == "bias_log":
        ax.axhline(0.0, color="k", lw=0.5)
    else:
        ax.set_ylim(bottom=0)
    if legend:
        ax.legend(fontsize=6)


def _role(evaluation: Table, sample: str) -> str:
    role = evaluation["role"][evaluation["sample"] == sample]
    return str(role[0]) if len(role) else ""


def evaluation_figure(evaluation: Table, samples: list[str]) -> Figure:
    """Scatter (top) and rms with constants as trained (bottom) per mass bin, one column per
    sample, every relation, 68% intervals: the report's held-out evaluation at a glance."""
    n = len(samples)
    fig = Figure(figsize=(6.7, 4.4))
    axes = fig.subplots(2, n, squeeze=False)
    for j, sample in enumerate(samples):
        for i, metric in enumerate(("scatter_log", "rms_log")):
            _metric_panel(axes[i, j], evaluation, sample, metric, legend=False)
            if j:
                axes[i, j].set_ylabel("")
        axes[0, j].set_title(f"{sample} ({_role(evaluation, sample)})", fontsize=8.5)
        axes[0, j].set_xlabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    # three per row: six relations with their long labels do not fit one row of the text width
    ncol = min(len(labels), 3)
    rows = -(-len(labels) // ncol) if labels else 0
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=6.5, frameon=False)
    fig.tight_layout(rect=(0, 0.035 * rows + 0.01, 1, 1))
    return fig


def per_simulation_figure(per_sim: Table, evaluation: Table, samples: list[str],
                          title: str) -> Figure | None:
    """Scatter reduction of the discovered relation (filled) and the black box (open) in each
    simulation (all masses), one row per sample, beside the pooled reduction of the sample with its
    68% (dark) and 95% (light) cluster-bootstrap intervals. None where no simulation has a
    reduction (too few haloes in each, as in an LH set of stacks): the figure would be empty."""
    if not np.isfinite(np.asarray(per_sim["reduction_log"], dtype=float)).any():
        return None
    fig = Figure(figsize=(7.0, 0.9 * len(samples) + 1.0))
    ax = fig.add_subplot()
    for i, sample in enumerate(samples):
        y0 = len(samples) - 1 - i
        pooled = evaluation[(evaluation["sample"] == sample) & (evaluation["bin"] == "all")
                            & (evaluation["relation"] == "discovered")]
        if len(pooled):
            row = pooled[0]
            for level, alpha in ((95, 0.15), (68, 0.35)):
                ax.fill_betweenx([y0 - 0.35, y0 + 0.35], 100 * row[f"reduction_log_lo{level}"],
                                 100 * row[f"reduction_log_hi{level}"], color=DISC_COLOUR,
                                 alpha=alpha, lw=0)
            ax.plot([100 * row["reduction_log"]] * 2, [y0 - 0.35, y0 + 0.35], color=DISC_COLOUR)
        for rel, dy, filled in (("discovered", 0.1, True), ("blackbox", -0.1, False)):
            sel = per_sim[(per_sim["sample"] == sample) & (per_sim["relation"] == rel)]
            if len(sel) == 0:
                continue
            colour = RELATION_STYLE[rel][0]
            v = 100 * np.asarray(sel["reduction_log"], float)
            v = np.maximum(v[np.isfinite(v)], -100.0)  # NaN: too few haloes in that simulation
            many = len(v) > 50  # an LH set: a thousand points must stay readable
            ax.plot(v, np.full(len(v), y0 + dy), "o", ms=2 if many else 4,
                    alpha=0.3 if many else 1.0, color=colour, mfc=colour if filled else "none",
                    label=RELATION_STYLE[rel][2] if i == 0 else None)
    ax.axvline(0.0, color="k", lw=0.5)
    ax.set_xlim(max(ax.get_xlim()[0], -105.0), min(ax.get_xlim()[1], 105.0))
    roles = {s: evaluation["role"][evaluation["sample"] == s] for s in samples}
    ax.set_yticks(range(len(samples))[::-1],
                  [f"{s} ({roles[s][0] if len(roles[s]) else ''})" for s in samples], fontsize=8)
    ax.set_ylim(-0.6, len(samples) - 0.4)
    ax.set_xlabel(r"reduction of the log scatter, 1 - $\sigma/\sigma_{\rm self-similar}$ [%]")
    ax.legend(fontsize=6, loc="lower left")
    ax.set_title(title, fontsize=10)
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


def varies(values: np.ndarray) -> bool:
    """More than one value, beyond the rounding of a parameter file (relative 1e-6)."""
    v = values[np.isfinite(values)]
    return v.size > 1 and float(np.ptp(v)) > 1e-6 * max(float(np.max(np.abs(v))), 1e-300)


def residual_parameter_figure(residuals: Table, samples: list[str], title: str) -> Figure | None:
    """Mean residual (about its sample's mean: a normalisation refitted per sample) against each
    simulation parameter that varies, for the baseline and the discovered relation; one row of
    panels per sample, a panel only where the parameter varies in that sample (a 1P set fixes
    the cosmology), diverged haloes left out. None if no parameter varies."""
    params = [p for p in SIMULATION_PARAMETERS
              if p in residuals.colnames and varies(np.asarray(residuals[p], dtype=float))]
    if not params:
        return None
    fig = Figure(figsize=(7.0, 1.6 * len(samples) + 0.6))
    # one residual axis per row: the parameters' effects compare at a glance, and the panels
    # keep their width for the x labels
    axes = fig.subplots(len(samples), len(params), squeeze=False, sharey="row")
    for i, sample in enumerate(samples):
        sub = residuals[residuals["sample"] == sample]
        axes[i, 0].set_ylabel(f"{sample}\nmean residual [dex]", fontsize=7)
        for j, p in enumerate(params):
            ax = axes[i, j]
            x = np.asarray(sub[p], dtype=float)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=2, min_n_ticks=2))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.tick_params(labelsize=6)
            if not varies(x):  # an empty frame keeps the row's residual axis on the left
                for spine in ax.spines.values():
                    spine.set_visible(False)
                ax.tick_params(bottom=False, labelbottom=False)
                ax.text(0.5, 0.5, f"{label(p)}\nfixed in {sample}", ha="center", va="center",
                        fontsize=6, color="0.5", transform=ax.transAxes)
                continue
            for rel, dx in (("baseline", -0.01), ("discovered", 0.01)):
                r = np.asarray(sub[f"resid_{rel}"], dtype=float)
                ok = ~np.asarray(sub[f"diverged_{rel}"], dtype=bool)
                if not ok.any():
                    continue
                colour, _, name = RELATION_STYLE[rel]
                xx = np.log10(x[ok]) if p.startswith("A_") else x[ok]
                c, m, e = _binned_mean(xx, r[ok] - r[ok].mean())
                ax.errorbar(c + dx * (1 if p.startswith("A_") else 0), m, yerr=e, fmt="o-", ms=3,
                            lw=1, color=colour, label=name, capsize=1.5)
            ax.axhline(0.0, color="k", lw=0.5)
            ax.set_xlabel((r"$\log_{10}$" if p.startswith("A_") else "") + label(p), fontsize=7)
            if i == 0 and not axes[0, 0].get_legend() and not fig.legends:
                fig.legend(*ax.get_legend_handles_labels(), fontsize=6.5, frameon=False,
                           loc="lower center", ncol=2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(h_pad=0.6, w_pad=0.3, rect=(0, 0.05, 1, 1))
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
    # below the panels: inside one it would sit on the curves
    fig.legend(handles, labels, fontsize=6.5, frameon=False, loc="lower center",
               ncol=min(len(labels), 4))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.04 * (1 + (len(labels) - 1) // 4), 1, 1))
    return fig
