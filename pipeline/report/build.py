"""Assemble the study's PDF report from the stage tables."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402
import yaml  # noqa: E402
from astropy.table import Table  # noqa: E402
from matplotlib import mathtext  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..discovery.definitions import definitions_text  # noqa: E402
from ..io.atomic import atomic_path  # noqa: E402
from ..io.tables import read_table  # noqa: E402
from ..provenance import config_hash, git_commit, package_versions  # noqa: E402
from .figures import (  # noqa: E402
    importance_figure,
    label,
    pareto_figure,
    per_simulation_figure,
    profile_comparison_figure,
    residual_parameter_figure,
    scatter_figure,
)

__all__ = ["build_report", "summary_sentences"]

matplotlib.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42, "font.size": 9})
_A4 = (8.27, 11.69)
_PARSER = mathtext.MathTextParser("path")


def _math_ok(text: str) -> bool:
    try:
        _PARSER.parse(text)
        return True
    except ValueError:
        return False


def _text_page(pdf: PdfPages, title: str, blocks: list[tuple[str, str]]) -> None:
    """Pages of text blocks: (kind, text) with kind 'h' heading, 'p' paragraph, 'm' math,
    'pre' monospace; a block that does not fit starts a new page (long 'pre' blocks are split)."""
    fig = Figure(figsize=_A4)
    renderer = FigureCanvasAgg(fig).get_renderer()
    y = 0.95
    fig.text(0.07, y, title, fontsize=15, weight="bold", va="top")
    y -= 0.05
    queue = list(blocks)
    while queue:
        kind, text = queue.pop(0)
        if kind == "pre":
            lines = text.splitlines()
            room = int((y - 0.04) / 0.0125)
            if len(lines) > room and room >= 5:  # fill this page, the rest on the next
                queue.insert(0, ("pre", "\n".join(lines[room:])))
                text, lines = "\n".join(lines[:room]), lines[:room]
            height = 0.0125 * len(lines) + 0.01
        elif kind == "p":
            text = textwrap.fill(text, 100)
            height = 0.016 * (text.count("\n") + 1) + 0.01
        elif kind == "m" and not _math_ok(text):
            kind, text = "mono", textwrap.fill(text, 95)
            height = 0.016 * (text.count("\n") + 1) + 0.01
        else:
            height = 0.045 if kind == "m" else 0.04
        if y - height < 0.04 and y < 0.85:  # does not fit: next page
            pdf.savefig(fig)
            fig = Figure(figsize=_A4)
            renderer = FigureCanvasAgg(fig).get_renderer()
            y = 0.95
        if kind == "h":
            y -= 0.01
            fig.text(0.07, y, text, fontsize=11.5, weight="bold", va="top")
            y -= 0.03
        elif kind == "p":
            fig.text(0.07, y, text, fontsize=9, va="top")
            y -= height
        elif kind == "m":
            artist = fig.text(0.09, y, text, fontsize=12, va="top")
            # long equations shrink to the text width (down to 6 pt) instead of running off
            width = artist.get_window_extent(renderer).width / (fig.dpi * _A4[0])
            if width > 0.86:
                artist.set_fontsize(max(6.0, 12 * 0.86 / width))
            y -= height
        elif kind == "mono":
            fig.text(0.09, y, text, fontsize=8.5, va="top", family="monospace")
            y -= height
        elif kind == "pre":
            fig.text(0.07, y, text, fontsize=7, va="top", family="monospace")
            y -= height
    pdf.savefig(fig)


def _figure_page(pdf: PdfPages, fig: Figure, caption: str) -> None:
    """Save ``fig`` (vector) with its caption underneath, on one page."""
    w, h = fig.get_size_inches()
    wrapped = textwrap.fill(caption, 110)
    cap_h = 0.25 + 0.16 * (wrapped.count("\n") + 1)
    fig.set_size_inches(w, h + cap_h)
    fig.tight_layout(rect=(0, cap_h / (h + cap_h), 1, 1))
    fig.text(0.03, (cap_h - 0.1) / (h + cap_h), wrapped, fontsize=7.5, va="top", style="italic")
    pdf.savefig(fig)


def _rounded(expression: str, digits: int = 3) -> str:
    """An expression string with its constants rounded to ``digits`` significant figures."""
    expr = sp.sympify(expression)
    return str(expr.xreplace({f: sp.Float(float(f"{float(f):.{digits}g}"), digits)
                              for f in expr.atoms(sp.Float)}))


def _all_masses(evaluation: Table, suite: str, relation: str):
    sel = evaluation[(evaluation["suite"] == suite) & (evaluation["bin"] == "all")
                     & (evaluation["relation"] == relation)]
    return sel[0] if len(sel) else None


def _interval(row, key: str, level: int, pct: bool = False) -> str:
    scale = 100.0 if pct else 1.0
    digits = 0 if pct else 3
    return (f"{scale * row[f'{key}_lo{level}']:.{digits}f} to "
            f"{scale * row[f'{key}_hi{level}']:.{digits}f}")


def summary_sentences(evaluation: Table, holdout_suites: list[str]) -> list[str]:
    """One sentence per held-out suite with the numbers a reader quotes: log scatter over all
    masses of the baseline, the discovered relation (68% interval), the reduction (68% and 95%),
    the black box, the published form and the noise floor where present, the bias of the
    relations as trained, divergences and extrapolation. Every number is the evaluate table's."""
    out = []
    for suite in holdout_suites:
        base = _all_masses(evaluation, suite, "baseline")
        disc = _all_masses(evaluation, suite, "discovered")
        if base is None or disc is None or not np.isfinite(disc["scatter_log"]):
            out.append(f"{suite}: too few haloes to evaluate (evaluate.min_halos_per_bin).")
            continue
        unit = str(disc["resample_unit"])
        unit_text = (f"{disc['n_sims']} simulations resampled" if unit == "sim"
                     else f"haloes resampled: {unit}")
        text = (f"{suite} ({disc['n_halos']} haloes, {unit_text}): log scatter "
                f"{base['scatter_log']:.3f} dex self-similar -> {disc['scatter_log']:.3f} dex "
                f"discovered (68% interval {_interval(disc, 'scatter_log', 68)}), a reduction of "
                f"{100 * disc['reduction_log']:.0f}% (68% interval "
                f"{_interval(disc, 'reduction_log', 68, True)}%, 95% interval "
                f"{_interval(disc, 'reduction_log', 95, True)}%)")
        others = []
        for rel, name in (("blackbox", "black box (forest, same features)"),
                          ("published", "published Y^(3/5)(1 - A c_gas)"),
                          ("floor", "mock noise floor")):
            row = _all_masses(evaluation, suite, rel)
            if row is not None and np.isfinite(row["scatter_log"]):
                others.append(f"{name} {row['scatter_log']:.3f} dex")
        if others:
            text += "; for comparison " + ", ".join(others)
        text += (f". With constants as trained (no refit on {suite}) the bias is "
                 f"{base['bias_log']:+.3f} dex self-similar and {disc['bias_log']:+.3f} dex "
                 f"discovered (rms {base['rms_log']:.3f} -> {disc['rms_log']:.3f} dex).")
        if disc["n_diverged"]:
            text += (f" The discovered relation DIVERGES on {disc['n_diverged']} of "
                     f"{disc['n_halos']} haloes (non-finite or off by more than the divergence "
                     "bound); they are left out of its numbers above.")
        else:
            text += " No halo diverges."
        if np.isfinite(disc["extrap_frac"]) and disc["extrap_frac"] > 0:
            text += (f" {100 * disc['extrap_frac']:.1f}% of its haloes lie outside the training "
                     "range of a feature the relation uses.")
        out.append(text)
    return out


def _constants_sentence(meta) -> str:
    """'c_0 = 0.6001 +- 0.004, ...' in the order of the template's symbols."""
    parts = []
    for c in meta["constants"]:
        err = c["error"]
        parts.append(f"{c['name']} = {c['value']:.4g}"
                     + (f" +- {err:.2g}" if np.isfinite(err) else " (degenerate)"))
    return ", ".join(parts)


def _forest_skill(rank) -> str:
    if "r2_cv" in rank.meta:
        return f"{rank.meta['r2_cv']:.2f} +- {rank.meta['r2_cv_std']:.2f}"
    return f"{rank.meta['r2_test']:.2f}"


def _groups_sentence(rank) -> str:
    shared = [g for g in rank.meta.get("groups", []) if len(g) > 1]
    if not shared:
        return ""
    listed = "; ".join(", ".join(g) for g in shared)
    return (f"; correlated groups (|Spearman rho| >= threshold, at most one member selected): "
            f"{listed}")


def _dropped_sentence(rank) -> str:
    dropped = rank.meta.get("dropped_features") or {}
    if not dropped:
        return ""
    return "; not ranked: " + ", ".join(f"{k} ({v})" for k, v in dropped.items())


def _n_scored(row) -> str:
    """Haloes, with those where the relation diverged (left out of its metrics)."""
    diverged = int(row["n_diverged"])
    return f"{row['n_halos']} ({diverged} div.)" if diverged else str(row["n_halos"])


def _fmt(v: float, lo: float, hi: float, pct: bool = False) -> str:
    """value [interval]; a relation that fails badly (scatter > 10, reduction < -1000%) is shown
    in exponent form rather than as a wall of digits."""
    if not np.isfinite(v):
        return "n/a"
    scale, unit = (100.0, "%") if pct else (1.0, "")
    if max(abs(v), abs(lo), abs(hi)) * scale > (1e3 if pct else 10.0):
        return f"{scale * v:.2g}{unit} [{scale * lo:.2g}, {scale * hi:.2g}]"
    digits = 1 if pct else 3
    return f"{scale * v:.{digits}f}{unit} [{scale * lo:.{digits}f}, {scale * hi:.{digits}f}]"


def _table_figure(
    header: list[str], rows: list[list[str]], title: str, widths: list[float] | None = None
) -> Figure:
    fig = Figure(figsize=(_A4[0], 0.7 + 0.25 * (len(rows) + 1)))
    ax = fig.add_axes([0.03, 0.02, 0.94, 0.85])
    ax.axis("off")
    tab = ax.table(cellText=rows, colLabels=header, loc="upper center", cellLoc="center",
                   colWidths=widths)
    tab.auto_set_font_size(False)
    tab.set_fontsize(7.5)
    tab.scale(1.0, 1.25)
    fig.text(0.04, 0.96, title, fontsize=10, weight="bold", va="top")
    return fig


def _reference_profiles(config: dict, redshift: float):
    """The real CAMELS 1P fiducial stacks nearest ``redshift`` (mock studies; None when the
    reference directory is absent), and a sentence saying what was used."""
    from ..io.camels_stacks import read_snapshot_redshifts
    from ..mock.calibration import FIDUCIAL_SIM, REFERENCE_SUITES
    from ..radial_profiles.reference import reference_profile_table

    root = Path(config["radial_profiles"]["reference_root"])
    if config["data"]["kind"] != "mock":
        return None, ""
    if not (root / "snapshots.csv").exists():
        return None, (f" No real stacks shown: the reference directory {root} is absent "
                      "(radial_profiles.reference_root).")
    redshifts = read_snapshot_redshifts(root / "snapshots.csv")
    parts = []
    for suite in REFERENCE_SUITES:
        snap, z = min(((s, zz) for (su, s), zz in redshifts.items() if su == suite),
                      key=lambda item: abs(item[1] - redshift))
        parts.append(reference_profile_table(root, suite, FIDUCIAL_SIM, snap, z))
    from astropy.table import vstack

    return vstack(parts), (f" Dashed: the real CAMELS 1P fiducial stacks ({FIDUCIAL_SIM}, z = "
                           f"{float(parts[0]['redshift'][0]):.2f}) from {root}, which the mock's "
                           "gas model is calibrated against (pipeline.mock.calibration).")


def _profiles_page(pdf: PdfPages, config: dict, profiles: Table) -> None:
    """Figure of the study's stacked gas profiles, beside the real CAMELS stacks for the mock."""
    z = float(np.min(profiles["redshift"]))
    first = profiles[np.isclose(np.asarray(profiles["redshift"], dtype=float), z)]
    reference, note = _reference_profiles(config, z)
    what = "mock" if config["data"]["kind"] == "mock" else config["data"]["kind"]
    _figure_page(pdf, profile_comparison_figure(first, reference,
                                                f"Stacked gas profiles ({what}, z = {z:.2f})"),
                 "Figure: mean stacked profiles of gas density, thermal pressure and "
                 "mass-weighted temperature per halo-mass bin (profile stage, gas particles "
                 "in shells at the radii of the CAMELS emu stacks; star-forming gas "
                 + ("in every quantity" if config["star_forming_gas"] == "include" else
                    "in the density only, left out of pressure and temperature "
                    "(star_forming_gas: exclude), while the CAMELS stacks include it")
                 + "); solid: median over the study's simulations, band: 16-84% over simulations."
                 + (" The mock places halo gas out to 2 R200c (a uniform background beyond), so "
                    "its profiles drop there." if what == "mock" else "") + note)


def build_report(
    out_pdf: str | Path, config: dict, halos_path: str | Path,
    rank_paths: dict[str, str], sr_paths: dict[str, str], evaluate_paths: dict[str, str],
    residual_paths: dict[str, str] | None = None, per_sim_paths: dict[str, str] | None = None,
    runtime_s: float | None = None, profiles_path: str | Path | None = None,
) -> Path:
    """Write the report PDF (atomically) from the stage outputs of a study."""
    halos = read_table(halos_path)
    study = config["study"]
    holdout = list(config["holdout_suites"])
    train = list(config["train_suites"])
    suites_all = train + holdout
    today = dt.date.today().isoformat()
    with atomic_path(out_pdf) as tmp, PdfPages(tmp, metadata={
        "Title": f"Scaling-relation study: {study}", "Subject": "scaling-relation discovery",
        "Creator": "scaling-relations-pipeline",
    }) as pdf:
        # --- page 1: summary and data
        blocks: list[tuple[str, str]] = [("h", "Summary")]
        for target in config["targets"]:
            name = target["name"]
            ev = read_table(evaluate_paths[name])
            sr = read_table(sr_paths[name])
            rank = read_table(rank_paths[name])
            top = ", ".join(rank["feature"][np.asarray(rank["selected"], bool)])
            found = (f"ranks {top} as the properties that best explain" if top else
                     "finds no property whose held-out importance is above zero (68% interval) "
                     "to explain")
            blocks += [
                ("h", f"Target {name}: {target['y']} from {target['x']}"),
                ("p", f"A random forest trained on {', '.join(train)} {found} the deviation from "
                      f"the self-similar relation {target['y']} = {target['slope']:g} "
                      f"{target['x']} + b (out-of-fold R^2 {_forest_skill(rank)}, "
                      f"{rank.meta.get('cv_split', 'folds by halo')}){_groups_sentence(rank)}"
                      f"{_dropped_sentence(rank)}. "
                      + ("Symbolic regression on them finds the relation below. " if top else
                         "The relation below is therefore the self-similar one. ")
                      + "Held-out numbers, "
                      "all masses (log scatter: std of log10 predicted/true about the suite's "
                      "own mean; intervals from resampling simulations):"),
            ]
            blocks += [("p", "- " + s) for s in summary_sentences(ev, holdout)]
            blocks += [
                ("m", f"${label(target['y']).strip('$')} = {target['slope']:g}\\,"
                      f"{label(target['x']).strip('$')} + f$"),
                ("m", f"$f = {sr.meta['chosen_latex']}$"),
            ]
            if sr.meta.get("constants"):
                blocks += [("m", f"$f = {sr.meta['chosen_template_latex']}$"),
                           ("p", "with constants refitted by least squares on every halo of the "
                                 "training suites (1-sigma errors): "
                                 + _constants_sentence(sr.meta) + ".")]
            fitted = ev.meta.get("fitted", {}).get("published")
            if fitted:
                blocks.append(("p", f"Published form: {ev.meta['relations']['published']}, "
                                    f"fitted on the training suites: A = {fitted['A']:.3f}, "
                                    f"b = {fitted['b']:.3f}."))
        counts_before = halos.meta.get("halos_before_cuts", {})
        counts_after = halos.meta.get("halos_after_cuts", {})
        data_lines = []
        suites = config["data"]["suites"]
        for suite in [*train, *holdout, *(s for s in suites if s not in suites_all)]:
            sims = suites[suite]
            role = "train" if suite in train else ("held out" if suite in holdout else "unused")
            data_lines.append(
                f"{suite:14s} {role:9s} {len(sims):4d} simulations  haloes measured "
                f"{counts_before.get(suite, 0):6d}  selected {counts_after.get(suite, 0):6d}"
            )
        lm = np.asarray(halos["log10_M200c"])
        sel = config["selection"]
        blocks += [
            ("h", "Data"),
            ("p", f"Input kind '{config['data']['kind']}' from {config['data']['root']} "
                  f"(layout {config['data']['layout']}), snapshots {config['data']['snapshots']}, "
                  f"redshifts {sorted({round(float(z), 3) for z in halos['redshift']})}. "
                  f"Selection: {sel['log10_mass_min_msun']} <= log10 M200c/Msun < "
                  f"{sel['log10_mass_max_msun']}, at least {sel['min_gas_particles']} gas "
                  f"particles in R200c, Y200c > 0. Selected haloes span log10 M200c = "
                  f"{lm.min():.2f} .. {lm.max():.2f}."),
            ("pre", "\n".join(data_lines)),
        ]
        _text_page(pdf, f"Scaling-relation study '{study}' — {today}", blocks)

        # --- per target: figures and tables
        for target in config["targets"]:
            name = target["name"]
            ev = read_table(evaluate_paths[name])
            sr = read_table(sr_paths[name])
            rank = read_table(rank_paths[name])
            _figure_page(pdf, importance_figure(rank, f"Feature ranking — {name}"),
                         f"Figure: importance of each candidate property for the residual "
                         f"{target['y']} - {target['slope']:g} {target['x']} on the training suites "
                         f"({', '.join(train)}). Permutation: drop in R^2 on held-out folds, "
                         f"68% interval over {config['rank']['folds']} folds x "
                         f"{config['rank']['repeats']} shuffles; diamonds: the feature's correlated "
                         f"group [g] shuffled together; impurity: std over trees. * = selected "
                         f"({rank.meta.get('top_k_rule', 'top k')}).")
            _figure_page(pdf, pareto_figure(sr, f"Pareto front — {name}"),
                         f"Figure: merged Pareto front of {len(config['sr']['seeds'])} seeded "
                         f"{config['sr']['backend']} runs. Choice rule: {sr.meta['choice_rule']}; "
                         f"validation split {sr.meta.get('validation_split', 'by halo')}.")
            rows = []
            for r in sr:
                expr = _rounded(r["expression"])
                rows.append([str(r["complexity"]), f"{r['loss_val']:.4g}", f"{r['r2_val']:.3f}",
                             (expr[:80] + "…") if len(expr) > 80 else expr,
                             "yes" if r["chosen"] else ""])
            pdf.savefig(_table_figure(
                ["complexity", "MSE val", "R² val", "expression (constants to 3 digits)", "chosen"],
                rows, f"Pareto-front equations — {name}", [0.09, 0.09, 0.07, 0.68, 0.07]))
            interval_note = (f"error bars: 68% intervals of a paired bootstrap over simulations "
                             f"({config['evaluate']['bootstrap']} resamples; haloes where a suite "
                             f"has fewer than {config['evaluate']['min_sims_for_cluster_bootstrap']} "
                             "simulations)")
            relations_note = ("self-similar baseline (grey), discovered relation (red), black-box "
                              "forest on the same features (black, open), published "
                              "Y^(3/5)(1 - A c_gas) form where it applies (blue) and, on the mock, "
                              "the noise floor (green, open); all fitted on the training suites")
            _figure_page(pdf, scatter_figure(ev, suites_all, "scatter_log",
                                             f"Scatter vs mass — {name}"),
                         "Figure: log scatter per mass bin, std of log10 predicted - log10 true "
                         "about the bin's own mean [dex] (what a normalisation refitted on the bin "
                         f"would leave), for the {relations_note}; {interval_note}.")
            _figure_page(pdf, scatter_figure(ev, suites_all, "rms_log",
                                             f"RMS error vs mass, constants as trained — {name}"),
                         "Figure: root mean square of log10 predicted - log10 true per mass bin "
                         "[dex], every constant as fitted on the training suites, so that a "
                         "held-out suite also pays for a normalisation that does not transfer "
                         f"(rms^2 = bias^2 + scatter^2); same relations; {interval_note}.")
            if per_sim_paths:
                _figure_page(pdf, per_simulation_figure(read_table(per_sim_paths[name]), ev,
                                                        suites_all,
                                                        f"Reduction per simulation — {name}"),
                             "Figure: scatter reduction 1 - scatter / scatter(self-similar) of "
                             "log10 predicted/true over all masses in each simulation (filled: "
                             "discovered relation, open: black box), beside the reduction pooled "
                             "over the suite with its 68% (dark) and 95% (light) intervals from "
                             "resampling simulations. Their spread is why the intervals resample "
                             "simulations, not haloes.")
            if residual_paths:
                fig = residual_parameter_figure(read_table(residual_paths[name]), suites_all,
                                                f"Residuals vs simulation parameters — {name}")
                if fig is not None:
                    _figure_page(pdf, fig,
                                 f"Figure: mean residual of {target['y']} (predicted - true, "
                                 "about its suite's mean), against each simulation parameter "
                                 "that varies (cosmological and feedback), for the self-similar "
                                 "baseline (grey) and the discovered relation (red); error bars: "
                                 "standard error of the mean. A flat red curve means the relation "
                                 "absorbs that parameter's effect.")
            rows = []
            for r in ev:
                if not np.isfinite(r["scatter_log"]):
                    continue
                bin_text = ("all" if r["bin"] == "all" else
                            f"{r['log10_M_lo']:.1f}–{r['log10_M_hi']:.1f}")
                rows.append([f"{r['suite']} ({r['role']})", bin_text, r["relation"], _n_scored(r),
                             f"{r['bias_log']:+.3f}",
                             _fmt(r["scatter_log"], r["scatter_log_lo68"], r["scatter_log_hi68"]),
                             f"{r['rms_log']:.3f}",
                             "" if r["relation"] == "baseline" else
                             _fmt(r["reduction_log"], r["reduction_log_lo95"],
                                  r["reduction_log_hi95"], True),
                             "" if not np.isfinite(r["extrap_frac"]) else
                             f"{100 * r['extrap_frac']:.1f}%"])
            for start in range(0, len(rows), 40):
                pdf.savefig(_table_figure(
                    ["suite", "log10 M", "relation", "N", "bias [dex]", "scatter [dex] [68%]",
                     "rms [dex]", "reduction [95%]", "extrap."], rows[start:start + 40],
                    f"Metrics per suite, mass bin and relation — {name}"
                    + (" (continued)" if start else ""),
                    [0.15, 0.08, 0.09, 0.07, 0.08, 0.18, 0.07, 0.2, 0.07]))

        if profiles_path:
            _profiles_page(pdf, config, read_table(profiles_path))

        # --- definitions
        _text_page(pdf, "Definitions", [("pre", definitions_text())])

        # --- provenance
        versions = package_versions()
        prov = [
            ("p", f"Pipeline git commit {git_commit()}; config hash {config_hash(config)}; "
                  f"generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
                  + (f"; pipeline wall time {runtime_s:.0f} s." if runtime_s else ".")),
            ("p", "Seeds: mock " + str(config.get("mock", {}).get("seed")) + ", rank "
                  + str(config["rank"]["seed"]) + ", SR " + str(config["sr"]["seeds"])
                  + ", evaluate " + str(config["evaluate"]["seed"]) + "."),
            ("pre", "\n".join(f"{k:28s} {v}" for k, v in versions.items())),
        ]
        _text_page(pdf, "Provenance", prov)
        _text_page(pdf, "Configuration (validated, defaults filled)",
                   [("pre", yaml.safe_dump(config, sort_keys=False, width=110))])
    return Path(out_pdf)
