"""The study's PDF report: a typeset document (Typst, installed with the package: no TeX, nothing
downloaded) with numbered sections, figures and tables, equations typeset from the sympy
expressions, references and provenance.

:func:`build_report` reads the stage tables, draws the figures (vector SVG, text as paths) and
compiles the template ``templates/report.typ`` (layout, title, Methods written per input kind in
``templates/methods.typ``, references, provenance, configuration) in a temporary directory into
the PDF (atomically). The template is filled from the data file ``report.json``
(:func:`methods_record` and the provenance record) and includes the data-driven sections
(summary, data, one per target, profiles), which small functions here write as Typst files
beside it. Every number quoted comes from the stage tables, and the page count does not grow
with the number of simulations (they appear as ranges, and per-simulation results as figures).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402
import yaml  # noqa: E402
from astropy.table import Table  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .. import __version__  # noqa: E402
from ..discovery.coverage import coverage_warnings  # noqa: E402
from ..errors import InputFileError  # noqa: E402
from ..io.atomic import atomic_path, scratch_dir  # noqa: E402
from ..io.equations import parse_equation  # noqa: E402
from ..io.tables import read_table  # noqa: E402
from ..provenance import config_hash, git_commit, package_versions  # noqa: E402
from .figures import (  # noqa: E402
    evaluation_figure,
    importance_figure,
    pareto_figure,
    per_simulation_figure,
    residual_parameter_figure,
    save_svg,
)
from .profiles_figure import (  # noqa: E402
    first_snapshot_profiles,
    reference_stacks,
    write_profiles_figure,
)
from .typst_markup import compact_names, figure, label_name, lit, table  # noqa: E402
from .typst_math import column_symbol, typst_math  # noqa: E402

__all__ = ["build_report", "summary_sentences", "compact_config", "methods_record"]

_BIB = Path(__file__).with_name("references.bib")
#: the document's layout, Methods and helpers (Typst), filled from report.json
_TEMPLATES = Path(__file__).with_name("templates")
#: every data-driven part imports the helpers (an included file does not see the main file's)
_PART_HEADER = '#import "helpers.typ": fitwidth\n'

_RELATION_NAMES = {"baseline": "self-similar", "discovered": "discovered",
                   "alternative": "other slope", "blackbox": "black box", "published": "published",
                   "floor": "noise floor"}


# --------------------------------------------------------------------------- numbers and words

def _all_masses(evaluation: Table, sample_name: str, relation: str):
    sel = evaluation[(evaluation["sample"] == sample_name) & (evaluation["bin"] == "all")
                     & (evaluation["relation"] == relation)]
    return sel[0] if len(sel) else None


def _interval(row, key: str, level: int, pct: bool = False) -> str:
    scale = 100.0 if pct else 1.0
    digits = 0 if pct else 3
    return (f"{scale * row[f'{key}_lo{level}']:.{digits}f} to "
            f"{scale * row[f'{key}_hi{level}']:.{digits}f}")


def transfer_verdicts(evaluation: Table, holdout_samples: list[str]) -> list[str]:
    """Per held-out sample where the discovered relation does not beat the self-similar baseline
    (its 95% interval of the reduction reaches 0 or below): a sentence that says so and which
    relation to use there, with the black box on the same features for comparison. A relation the
    pipeline's own held-out evaluation finds worse is never left as the result."""
    out = []
    for sample_name in holdout_samples:
        disc = _all_masses(evaluation, sample_name, "discovered")
        if disc is None or not np.isfinite(disc["reduction_log"]):
            continue
        lo, hi = disc["reduction_log_lo95"], disc["reduction_log_hi95"]
        if lo > 0:
            continue
        box = _all_masses(evaluation, sample_name, "blackbox")
        box_text = (f"; the black box on the same features: {100 * box['reduction_log']:.0f}%"
                    if box is not None and np.isfinite(box["reduction_log"]) else "")
        reduction = (f"{100 * disc['reduction_log']:.0f}%, 95% interval "
                     f"{_interval(disc, 'reduction_log', 95, True)}%{box_text}")
        if hi < 0:
            out.append(f"On {sample_name} the discovered relation is WORSE than the self-similar "
                       f"baseline ({reduction}): it does not carry over to that sample; use the "
                       "baseline there.")
        else:
            out.append(f"On {sample_name} the discovered relation is not distinguishable from the "
                       f"self-similar baseline ({reduction}): the baseline serves as well there.")
    return out


def _search_warnings(sr: Table) -> list[str]:
    """What the reader must know about how the search ended: a run the time cap stopped."""
    runs = [r for r in (sr.meta.get("engine_runs") or []) if r.get("stopped_by") == "time cap"]
    if not runs:
        return []
    return [f"{len(runs)} symbolic-regression run(s) stopped on sr.time_budget_s, not on the "
            "evaluation budget: this equation depends on the machine's speed and load (raise "
            "sr.time_budget_s or lower sr.max_evaluations)."]


def summary_sentences(evaluation: Table, holdout_samples: list[str]) -> list[str]:
    """One sentence per held-out sample with the numbers a reader quotes: log scatter over all
    masses of the baseline, the discovered relation (68% interval), the reduction (68% and 95%),
    the black box, the published form and the noise floor where present, the bias of the
    relations as trained, divergences and extrapolation, and the simulation parameters it explores
    that training did not (:mod:`pipeline.discovery.coverage`). Every number is the evaluate
    table's."""
    out = []
    warnings = coverage_warnings(evaluation.meta.get("parameter_coverage", []))
    for sample_name in holdout_samples:
        base = _all_masses(evaluation, sample_name, "baseline")
        disc = _all_masses(evaluation, sample_name, "discovered")
        if base is None or disc is None or not np.isfinite(disc["scatter_log"]):
            out.append(f"{sample_name}: too few haloes to evaluate (evaluate.min_halos_per_bin).")
            continue
        unit = str(disc["resample_unit"])
        unit_text = (f"{disc['n_sims']} simulations resampled" if unit == "sim"
                     else f"haloes resampled: {unit}")
        text = (f"{sample_name} ({disc['n_halos']} haloes, {unit_text}): log scatter "
                f"{base['scatter_log']:.3f} dex self-similar -> {disc['scatter_log']:.3f} dex "
                f"discovered (68% interval {_interval(disc, 'scatter_log', 68)}), a reduction of "
                f"{100 * disc['reduction_log']:.0f}% (68% interval "
                f"{_interval(disc, 'reduction_log', 68, True)}%, 95% interval "
                f"{_interval(disc, 'reduction_log', 95, True)}%)")
        others = []
        for rel, name in (("blackbox", "black box (forest, same features)"),
                          ("published", "published Y^(3/5)(1 - A c_gas)"),
                          ("floor", "mock noise floor")):
            row = _all_masses(evaluation, sample_name, rel)
            if row is not None and np.isfinite(row["scatter_log"]):
                others.append(f"{name} {row['scatter_log']:.3f} dex")
        if others:
            text += "; for comparison " + ", ".join(others)
        text += (f". With constants as trained (no refit on {sample_name}) the bias is "
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
        for warning in warnings.get(sample_name, []):
            text += f" Coverage: {warning}."
        out.append(text)
    return out


def per_simulation_spread(per_sim: Table, samples: list[str], min_rows: int) -> str:
    """Per held-out sample, the range and median of the discovered relation's reduction over the
    simulations with at least ``min_rows`` haloes (the others have none: NaN in the table), with
    the count of those left out and, for them, the median rms of the residuals (defined for any
    count) of the discovered and the self-similar relation."""
    parts = []
    for sample_name in samples:
        mine = per_sim[per_sim["sample"] == sample_name]
        disc = mine[mine["relation"] == "discovered"]
        v = 100 * np.asarray(disc["reduction_log"], dtype=float)
        ok = np.isfinite(v)
        text = (f"{lit(sample_name)}: {v[ok].min():.0f}% to {v[ok].max():.0f}% (median "
                f"{np.median(v[ok]):.0f}%, {int(ok.sum())} simulations)" if ok.any()
                else f"{lit(sample_name)}: no simulation with {min_rows} haloes or more")
        if (~ok).any():
            few = set(np.asarray(disc["sim"])[~ok].astype(str))
            base = mine[(mine["relation"] == "baseline")
                        & np.isin(np.asarray(mine["sim"]).astype(str), list(few))]
            text += (f"; {len(few)} simulation(s) with fewer haloes have no per-simulation scatter "
                     f"(median rms of residuals there: {np.nanmedian(disc['rms_log'][~ok]):.3f} dex "
                     f"discovered, {np.nanmedian(base['rms_log']) if len(base) else np.nan:.3f} dex "
                     "self-similar)")
        parts.append(text)
    return "; ".join(parts) if parts else "no held-out simulation"


def _scatter_cell(row) -> str:
    if row is None or not np.isfinite(row["scatter_log"]):
        return "--"
    return (f"{row['scatter_log']:.3f} "
            f"#text(size: 7pt)[[{row['scatter_log_lo68']:.3f}, {row['scatter_log_hi68']:.3f}]]")


def _reduction_cell(row, level: int = 95) -> str:
    if row is None or not np.isfinite(row["reduction_log"]):
        return "--"
    lo, hi = 100 * row[f"reduction_log_lo{level}"], 100 * row[f"reduction_log_hi{level}"]
    return f"{100 * row['reduction_log']:.0f}% #text(size: 7pt)[[{lo:.0f}, {hi:.0f}]]"


def _plain(row, key: str, digits: int = 3) -> str:
    return "--" if row is None or not np.isfinite(row[key]) else f"{row[key]:.{digits}f}"


# --------------------------------------------------------------------------- equations

def _equation(sr: Table, target: dict) -> tuple[str, str, str]:
    """(Typst math of the relation with its constants, of its template with c_i, the constants
    line): y = slope x + f."""
    lhs = f"{column_symbol(target['y'])} = {target['slope']:g} {column_symbol(target['x'])}"
    chosen = _sr_equation(sr, sr.meta["chosen"])
    full = _sum(lhs, typst_math(chosen, digits=4))
    template = sr.meta.get("chosen_template")
    constants = sr.meta.get("constants") or []
    if not template or not constants:
        return full, "", ""
    tmpl = _sum(lhs, typst_math(_sr_equation(sr, template, len(constants))))
    values = ", ".join(
        f"c_{c['name'].split('_')[1]} = {c['value']:.4g}"
        + (f" plus.minus {c['error']:.2g}" if np.isfinite(c["error"]) else "")
        for c in constants)
    return full, tmpl, values


def _sr_equation(sr: Table, text: str, n_constants: int = 0) -> sp.Expr:
    """An equation of the SR table, parsed as data over the table's features (and the template's
    constants _c0, _c1, ...): a results folder may come from someone else."""
    names = [*map(str, sr.meta.get("features", [])), *(f"_c{i}" for i in range(n_constants))]
    return parse_equation(str(text), names, "SR table: ")


def _conditioning_cells(row) -> list[str]:
    if "cancellation" not in row.colnames:
        return ["--", "--"]
    canc = row["cancellation"]
    return ["--" if not np.isfinite(canc) else f"{canc:.2g}", str(int(row["n_undetermined"]))]


def _choosable(row) -> bool:
    return bool(row["choosable"]) if "choosable" in row.colnames else True


def _max_cancellation(sr: Table) -> str:
    options = (sr.meta.get("provenance") or {}).get("options") or {}
    return f"{options.get('max_cancellation', 10):g}"


def _conditioning_sentence(sr: Table) -> str:
    """The chosen equation's conditioning, in words (the SR table's measures)."""
    if "cancellation" not in sr.colnames or not np.any(sr["chosen"]):
        return ""
    row = sr[np.asarray(sr["chosen"], dtype=bool)][0]
    return (f"Conditioning (constants refitted on every training halo): largest term "
            f"{row['cancellation']:.2g} x the correction (cancelling above "
            f"{_max_cancellation(sr)}); {int(row['n_undetermined'])} of {int(row['n_constants'])} "
            f"constants undetermined; worst relative 1-sigma error "
            f"{row['worst_relative_error']:.2g}; condition number of the scaled Jacobian "
            f"{row['condition_number']:.2g}. {lit(str(sr.meta.get('conditioning_rule', '')))}.")


def _undetermined_constants(sr: Table) -> list[str]:
    """The chosen equation's constants whose 1-sigma error exceeds their magnitude (or that have
    none): traded against others, only their combinations are measured."""
    return [c["name"] for c in sr.meta.get("constants") or []
            if not np.isfinite(c["error"]) or c["error"] > abs(c["value"])]


def _sum(lhs: str, rhs: str) -> str:
    """``lhs + rhs`` in Typst math, written ``lhs - ...`` when ``rhs`` starts with a minus."""
    return f"{lhs} - {rhs[1:].lstrip()}" if rhs.startswith("-") else f"{lhs} + {rhs}"


def _rejection_kinds(rejected: list[dict]) -> str:
    """'12 a pole or a non-real region, 3 non-finite, ...' from the SR table's rejected list."""
    kinds = {"reaches zero": "a pole or a non-real region", "not finite": "non-finite",
             "strays": "a blow-up", "gradient": "a gradient blow-up"}
    counts: dict[str, int] = {}
    for item in rejected:
        reason = str(item.get("reason", "")) if isinstance(item, dict) else ""
        kind = next((v for k, v in kinds.items() if k in reason), "other")
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _slope_comparison(ev: Table, target: dict, main_math: str, alt: dict, key: str) -> str:
    """The equation found under the other slope constraint and the held-out scatter of both,
    side by side (the closer fit is not always the more robust relation)."""
    lhs = f"{column_symbol(target['y'])} = {target['slope']:g} {column_symbol(target['x'])}"
    alt_features = (ev.meta.get("features") or {}).get("alternative", [])
    alt_math = _sum(lhs, typst_math(parse_equation(str(alt["expression"]), alt_features,
                                                   "evaluate table (alternative): "), digits=4))
    rows = []
    for sample in dict.fromkeys(np.asarray(ev["sample"][ev["role"] == "holdout"]).astype(str)):
        cells = [lit(sample)]
        for rel in ("baseline", "discovered", "alternative"):
            cells.append(_scatter_cell(_all_masses(ev, sample, rel)))
        rows.append(cells)
    return ("With the other slope constraint (" + lit(alt["constraint"]) + ") symbolic regression "
            f"chooses the equation below; @tab-{key}-slopes compares the two on the held-out "
            "samples.\n" + _math_block(alt_math)
            + table(["held out", "self-similar", "discovered [68%]", "other constraint [68%]"],
                    rows, "Held-out log scatter [dex], all masses, of the discovered equation and "
                    "of the one chosen under the other slope constraint.", f"tab-{key}-slopes",
                    size="8pt"))


def _math_block(math: str) -> str:
    """Display math, set smaller when long so that it stays within the text width."""
    length = len(math)
    size = "10pt" if length < 110 else ("8.5pt" if length < 200 else "7pt")
    # still wider than the text (few characters, tall or wide symbols): scaled down to fit
    return f"#block(width: 100%)[#set text(size: {size})\n#fitwidth[$ {math} $]]\n"


# --------------------------------------------------------------------------- sections

def _within_cell(row) -> str:
    """'97 / 100%': the fractions within 0.1 and 0.2 dex (older tables lack them: '--')."""
    if "frac_within_0p1dex" not in row.colnames or not np.isfinite(row["frac_within_0p1dex"]):
        return "--"
    return f"{100 * row['frac_within_0p1dex']:.0f} / {100 * row['frac_within_0p2dex']:.0f}%"


def _summary(config: dict, targets: list[dict], tables: dict) -> str:
    holdout = list(config["holdout"])
    out = ["= Summary <sec-summary>\n"]
    out.append(
        f"Relations were fitted on {lit(', '.join(config['train']))} and tested on the "
        f"held-out {lit(', '.join(holdout))}. Scatter is the standard deviation of "
        "$log_10$ predicted/true about each sample's own mean [dex]; intervals resample "
        "simulations (@sec-methods). "
        + ("The noise floor is the scatter left when the mock's latent halo properties are known. "
           if config["data"]["kind"] == "mock" and config["data"].get("input") != "catalog"
           else "") + "\n")
    for target in targets:
        name = target["name"]
        ev, sr = tables[name]["evaluate"], tables[name]["sr"]
        full, _, _ = _equation(sr, target)
        verdict = sr.meta.get("verdict") or {}
        if verdict.get("recommended", True):
            out.append(f"\n*{lit(name)}* ({lit(target['y'])} from {lit(target['x'])}, "
                       f"@sec-{label_name(name)}): the relation found is below, its held-out "
                       f"numbers in @{label_name('tab-summary', name)}.\n")
        else:
            out.append(f"\n*{lit(name)}* ({lit(target['y'])} from {lit(target['x'])}, "
                       f"@sec-{label_name(name)}): *no closed form beats the self-similar "
                       "baseline* on the data the choice was made on ("
                       + lit(str(verdict.get("data", ""))) + "): the baseline is recommended. "
                       "The equation below is that baseline as symbolic regression returns it; "
                       f"held-out numbers in @{label_name('tab-summary', name)}.\n")
        out.append(_math_block(full))
        for sentence in (*transfer_verdicts(ev, holdout), *_search_warnings(sr)):
            out.append(f"\n{lit(sentence)}\n")
        rows = []
        for sample_name in holdout:
            r = {rel: _all_masses(ev, sample_name, rel) for rel in _RELATION_NAMES}
            disc = r["discovered"]
            if disc is None:
                continue
            rows.append([lit(sample_name), str(disc["n_halos"]), str(disc["n_sims"]),
                         _plain(r["baseline"], "scatter_log"), _scatter_cell(disc),
                         _reduction_cell(disc), _plain(r["blackbox"], "scatter_log"),
                         _plain(r["published"], "scatter_log"), _plain(r["floor"], "scatter_log"),
                         _within_cell(disc), str(disc["n_diverged"]),
                         "--" if not np.isfinite(disc["extrap_frac"])
                         else f"{100 * disc['extrap_frac']:.1f}%"])
        out.append(table(
            ["held out", "N", "sims", "self-sim.", "discovered [68%]", "reduction [95%]",
             "black box", "published", "floor", "within 0.1/0.2 dex", "div.", "extrap."], rows,
            f"Held-out log scatter [dex] over all masses for {lit(name)}; reduction = "
            "1 - scatter/scatter#sub[self-similar] on the haloes both score; within: the "
            "fraction of haloes the discovered relation puts within 0.1 and 0.2 dex of the truth "
            "(constants as trained, a diverged halo counts as outside); div.: haloes where "
            "the discovered relation diverges (left out); extrap.: haloes outside the training "
            "range of a feature it uses. Intervals: paired bootstrap over simulations.",
            label_name("tab-summary", name), size="8pt"))
        for sentence in summary_sentences(ev, holdout):
            out.append(f"\n{lit(sentence)}\n")
    return "".join(out)


def _data(config: dict, halos: Table) -> str:
    data = config["data"]
    train, holdout = list(config["train"]), list(config["holdout"])
    before = halos.meta.get("halos_before_cuts", {})
    after = halos.meta.get("halos_after_cuts", {})
    column = "sample" if "sample" in halos.colnames else "suite"
    bin_column = config.get("evaluate", {}).get("bin_column", "log10_M200c")
    rows = []
    for name, sample in config["samples"].items():
        role = "train" if name in train else ("held out" if name in holdout else "unused")
        lm = np.asarray(halos[bin_column][halos[column] == name], dtype=float)
        snaps = compact_names([str(s) for s in sample["snapshots"]], max_pieces=4)
        rows.append([lit(name), role, lit(f"{sample['suite']} {sample['set']}"),
                     str(len(sample["sims"])), lit(compact_names(sample["sims"], max_pieces=4)),
                     lit(snaps), str(before.get(name, 0)), str(after.get(name, 0)),
                     f"{lm.min():.2f}--{lm.max():.2f}" if len(lm) else "--"])
    redshifts = sorted({round(float(z), 3) for z in halos["redshift"]})
    sel = config["selection"]
    z_text = (", ".join(f"{z:g}" for z in redshifts) if len(redshifts) <= 12
              else f"{redshifts[0]:g} to {redshifts[-1]:g} ({len(redshifts)} values)")
    if data.get("input") == "catalog":
        cat = config["catalog"]
        selection = (f"Rows: the group catalogs' {lit(cat['rows'])} (no particles read), "
                     f"$log_10 M \\/ M_dot.o >= {cat['log10_mass_min_msun']}$ "
                     f"({'Mtot' if cat['rows'] == 'subhalos' else 'M200c'}), at least "
                     f"{cat['min_particles']} bound particles"
                     + (", centrals only" if cat.get("centrals_only") else "") + ". ")
    else:
        selection = (f"Selection: ${sel['log10_mass_min_msun']} <= log_10 M_(200c) \\/ M_dot.o < "
                     f"{sel['log10_mass_max_msun']}$, at least {sel['min_gas_particles']} gas "
                     f"particles in $R_(200c)$ (particle inputs), $Y_(200c) > 0$; star-forming gas: "
                     f"{lit(config.get('star_forming_gas', 'exclude'))} (@sec-methods). ")
    from_nprofs = halos.meta.get("stacks_halo_count_from_nprofs") or {}
    if from_nprofs:
        selection += (f"{sum(from_nprofs.values())} stack file(s) carry no "
                      f"`Nhalos` header line; their halo count (for `stacks.min_halos`) is the "
                      f"header's `nprofs` ({lit(', '.join(f'{k}: {v}' for k, v in from_nprofs.items()))}). ")
    missing = halos.meta.get("inputs_missing") or {}
    for name, per_bin in missing.items():
        counts = ", ".join(f"{k} {v['found']}/{v['expected']}" for k, v in per_bin.items())
        selection += (f"Sample {lit(name)} reads a ragged set (missing: skip): found/expected "
                      f"{'stacks per mass bin' if data['kind'] == 'stacks' else 'inputs'}: "
                      f"{lit(counts)}. ")
    roots = {n: s["root"] for n, s in config["samples"].items()
             if s.get("root", data["root"]) != data["root"]}
    if roots:
        selection += ("Own data roots: " + lit("; ".join(f"{n}: {r}" for n, r in roots.items()))
                      + ". ")
    text = (f"= Data <sec-data>\n Input kind {lit(data['kind'])} from {lit(data['root'])} "
            f"(layout {lit(data.get('layout', ''))}), redshifts {lit(z_text)}. "
            + selection + "@tab-data lists the samples.\n")
    return text + table(["sample", "role", "suite, set", "sims", "simulations", "snapshots",
                         "haloes", "selected", f"{lit(bin_column)} range"], rows,
                        "Samples of the study (a sample: a suite's simulations and snapshots). "
                        "Simulations are listed as ranges; haloes: measured rows (stacks for "
                        "stacked profiles) before the selection.",
                        "tab-data", size="8pt",
                        columns=["auto"] * 4 + ["1fr"] + ["auto"] * 4)


def _identification_sentence(rank: Table) -> str:
    """What tells the training samples apart at fixed x (rank meta ``identify``), or nothing
    with one training sample."""
    ident = rank.meta.get("identify")
    if not ident:
        return ""
    scores = {str(r["feature"]): float(r["identify_score"]) for r in rank}
    flagged = list(ident["flagged"])
    text = (f" Telling the training samples apart at fixed x (Somers' D of the feature's "
            f"residual about a cubic in x, out of fold; flag at {ident['threshold']:g}): ")
    if not flagged:
        return text + "no feature is flagged (largest " + lit(
            max(scores, key=scores.get) + f" {max(scores.values()):+.2f}") + ")."
    return (text + lit(", ".join(f"{f} {scores[f]:+.2f}" for f in flagged))
            + (" identify the training sample and were left out of symbolic regression "
               "(rank.sample_identifying: exclude): a relation could carry each sample's offset "
               "through them." if ident["rule"] == "exclude"
               else " identify the training sample (kept: rank.sample_identifying: keep)."))


def _truth_note(config: dict, target: dict, columns: list[str]) -> str:
    """A sentence where the study let halo-finder or truth quantities predict a target that is
    one too (``allow_truth_features``): the reader must know the relation is not observational."""
    if not target.get("allow_truth_features"):
        return ""
    from ..columns import is_truth
    from ..config import registry_columns

    registry = registry_columns(config)
    truths = [c for c in dict.fromkeys(columns) if is_truth(c, registry)]
    if not truths:
        return ""
    return (" *Not observational:* the study allows halo-finder or truth quantities as inputs of "
            f"this target ({lit('allow_truth_features: true')}): {lit(', '.join(truths))}.")


def _target_section(config: dict, target: dict, t: dict, figures: dict[str, str]) -> str:
    """One target's section: ranking, discovered relation (with its Pareto front), held-out
    evaluation, transfer across simulations and residuals against the parameters."""
    key = label_name(target["name"])
    head = (f"= Target {lit(target['name'])}: ${column_symbol(target['y'])}$ from "
            f"${column_symbol(target['x'])}$ <sec-{key}>\n")
    return "".join([head, _ranking_section(config, target, t["rank"], figures, key),
                    _discovered_section(config, target, t, figures, key),
                    _evaluation_section(target["name"], t["evaluate"], figures, key),
                    _transfer_section(config, t["per_sim"], figures, key)])


def _ranking_section(config: dict, target: dict, rank: Table, figures: dict[str, str],
                     key: str) -> str:
    name = target["name"]
    train = ", ".join(config["train"])
    selected = [str(f) for f in rank["feature"][np.asarray(rank["selected"], bool)]]
    groups = [g for g in rank.meta.get("groups", []) if len(g) > 1]
    dropped = rank.meta.get("dropped_features") or {}
    out = []
    skill = (f"{rank.meta['r2_cv']:.2f} (per fold ± {rank.meta.get('r2_cv_std', np.nan):.2f}; "
             f"{rank.meta.get('cv_split', 'folds by halo')})")
    out.append(
        f"== Ranking\nA random forest @breiman2001 on {lit(train)} predicts the residual "
        f"${column_symbol(target['y'])} - {target['slope']:g} {column_symbol(target['x'])}$ with "
        f"out-of-fold $R^2$ = {lit(skill)}. @fig-{key}-rank shows the held-out permutation "
        "importances; "
        + (f"selected for symbolic regression: {', '.join(f'${column_symbol(f)}$' for f in selected)}"
           if selected else "no feature's 68% interval lies above zero, so the relation is the "
                            "self-similar one")
        + (f"; correlated groups: {lit('; '.join(', '.join(g) for g in groups))}" if groups else "")
        + (f"; not ranked: {lit(', '.join(f'{k} ({v})' for k, v in dropped.items()))}"
           if dropped else "") + "." + _identification_sentence(rank)
        + _truth_note(config, target, [target["x"], *map(str, rank["feature"])]) + "\n")
    out.append(figure(figures["importance"],
                      f"Held-out permutation importance (drop in $R^2$; 68% interval over folds × "
                      f"shuffles) of each candidate feature for {lit(name)}, with the grouped "
                      "importance of correlated features (diamonds) and impurity importance "
                      "(reference only). \\* = selected.", f"fig-{key}-rank"))
    return "".join(out)


def _discovered_section(config: dict, target: dict, t: dict, figures: dict[str, str],
                        key: str) -> str:
    name = target["name"]
    sr = t["sr"]
    out = []
    full, tmpl, values = _equation(sr, target)
    transfer = str(sr.meta.get("choice_data", "split")) == "transfer"
    rejected = sr.meta.get("domain", {})
    n_rejected = rejected.get("n_rejected", 0) if isinstance(rejected, dict) else 0
    reasons = _rejection_kinds(sr.meta.get("rejected") or [])
    out.append(f"== Discovered relation\nSymbolic regression ({lit(config['sr']['backend'])}, "
               f"@burlacu2020) on the selected features, "
               + ("keeping the relation's x to its self-similar slope"
                  if "fixed" in str(sr.meta.get("slope", "")) else "the correction free to use x")
               + f"; choice rule: {lit(sr.meta.get('choice_rule', ''))}; chosen on "
               + ("data left out of the fit, " if transfer else "a validation split, ")
               + f"{lit(sr.meta.get('validation_split', 'by halo'))}"
               + (f"; {n_rejected} candidates rejected on the widened feature domain (training"
                  f" and held-out observables): {lit(reasons)}" if n_rejected else "")
               + f". The chosen equation (@fig-{key}-pareto, @tab-{key}-front), with its "
               "constants refitted on every training halo (1-sigma errors):\n")
    out.append(_math_block(tmpl or full))
    if values:
        out.append(_math_block(values))
    relation_file = f"reports/{config['study']}/relations/{name}.json"
    out.append(f"\nThe relation as a file (equation, constants with their covariance, units, "
               f"training domain): {lit(relation_file)}; "
               f"{lit('scaling-pipeline apply')} evaluates it on any table of haloes.\n")
    if (sentence := _conditioning_sentence(sr)):
        out.append(f"\n{sentence}\n")
    undetermined = _undetermined_constants(sr)
    if undetermined:
        out.append(f"\nNot determined separately: {lit(', '.join(undetermined))} (1-sigma error "
                   "above the value, or none): the data fix only combinations of them; "
                   "an equivalent form with fewer constants exists.\n")
    rewrites = sr.meta.get("rewrites") or []
    if rewrites:
        out.append("\nThe engine's form had degenerate pieces, rewritten to their equivalent on "
                   "the data's domain before the choice (constants refitted after): "
                   + lit("; ".join(f"{r['rule']}: {r['before']} -> {r['after']} (prediction moved "
                                   f"by at most {r['max_change']:.1e})" for r in rewrites)) + ".\n")
    alt = (t["evaluate"].meta.get("fitted") or {}).get("alternative")
    if alt:
        out.append(_slope_comparison(t["evaluate"], target, full, alt, key))
    out.append(figure(figures["pareto"],
                      "Merged Pareto front: training and " + ("left-out" if transfer else "validation")
                      + " loss against complexity (expression-tree nodes); the star marks the "
                      "chosen equation.", f"fig-{key}-pareto"))
    out.append(_front_table_markup(sr, name, key, transfer))
    return "".join(out)


def _front_table_markup(sr: Table, name: str, key: str, transfer: bool) -> str:
    """The Pareto-front table: losses, conditioning, the equation typeset, which one is chosen."""
    out_columns = [c for c in sr.colnames if c.startswith("loss_out_")][:3]
    front_rows = []
    for r in sr:
        expr = _sr_equation(sr, r["expression"])
        math = typst_math(expr, digits=3)
        cell = f"${math}$" if len(math) < 160 else lit(str(expr)[:150] + "…")
        front_rows.append([str(r["complexity"]), f"{r['loss_train']:.3g}", f"{r['loss_val']:.3g}",
                           *(f"{r[c]:.3g}" for c in out_columns), f"{r['r2_val']:.3f}",
                           *_conditioning_cells(r), cell,
                           "✓" if r["chosen"] else ("" if _choosable(r) else "✗")])
    val_name = "left out" if transfer else "val"
    return table(["size", "MSE train", f"MSE {val_name}",
                  *(lit(c.removeprefix("loss_out_")) for c in out_columns),
                  f"$R^2$ {val_name}", "canc.", "undet.", "equation (constants to 3 digits)",
                  "chosen"],
                 front_rows, f"Pareto-front equations for {lit(name)} (residual $f$): loss on "
                 "the training haloes, on the data the choice is made on"
                 + (", and left out per training sample (constants refitted on the others)"
                    if out_columns else "")
                 + "; canc.: the largest term relative to the correction (terms cancel above "
                 f"{_max_cancellation(sr)}); undet.: constants whose 1-sigma error reaches their "
                 "value; ✗: not choosable for either reason. Size counts the nodes of the "
                 "sympy expression tree (variables, numbers and operations; a subtraction is "
                 "an addition of a negated term), as the engine's max_length counts its own "
                 "nodes: an engine form of length 20 can print with more.",
                 f"tab-{key}-front", size="7.5pt",
                 columns=["auto"] * (6 + len(out_columns)) + ["1fr", "auto"])


def _evaluation_section(name: str, ev: Table, figures: dict[str, str], key: str) -> str:
    out = []
    out.append(f"== Held-out evaluation\n@fig-{key}-eval shows the scatter (top) and the rms with "
               "constants as trained (bottom) per mass bin and held-out sample, for every relation; "
               f"@tab-{key}-metrics gives the numbers over all masses.\n")
    out.append(figure(figures["evaluation"],
                      "Top: log scatter per mass bin [dex] (std about the bin's own mean). "
                      "Bottom: rms [dex] with every constant as fitted on the training samples "
                      "(rms² = bias² + scatter²). Grey: self-similar; red: discovered; black, open: "
                      "black-box forest on the same features; blue: published form; orange: the "
                      "equation chosen under the other slope constraint; green, open: mock noise "
                      "floor. Error bars: 68% intervals of a paired bootstrap over "
                      "simulations.", f"fig-{key}-eval"))
    metric_rows = []
    for r in ev[ev["bin"] == "all"]:
        metric_rows.append([lit(f"{r['sample']} ({r['role']})"),
                            _RELATION_NAMES.get(r["relation"], r["relation"]),
                            str(r["n_halos"]), str(r["n_diverged"]), _plain(r, "bias_log"),
                            _scatter_cell(r), _plain(r, "scatter_frac"), _plain(r, "rms_log"),
                            "" if r["relation"] == "baseline" else _reduction_cell(r)])
    out.append(table(["sample", "relation", "N", "div.", "bias", "scatter [68%]", "frac.",
                      "rms", "reduction [95%]"], metric_rows,
                     f"All-mass metrics for {lit(name)} [dex]: bias and rms with constants as "
                     "trained; scatter about each sample's mean; frac. = std/mean of "
                     "predicted/true. Per-bin values: the figure and the evaluate table.",
                     f"tab-{key}-metrics", size="7.5pt"))
    notes = sorted({f"{r['sample']}, log10 M in [{r['log10_M_lo']:g}, {r['log10_M_hi']:g}): "
                    f"{r['note']}" for r in ev if "note" in ev.colnames
                    and not np.ma.is_masked(r["note"]) and str(r["note"]).strip()})
    if notes:
        out.append("Not shown: " + lit("; ".join(notes)) + ".\n")
    return "".join(out)


def _transfer_section(config: dict, per_sim: Table, figures: dict[str, str], key: str) -> str:
    out = []
    min_rows = config["evaluate"].get("min_halos_per_sim", 10)
    out.append(f"== Transfer\nThe reduction is not uniform across simulations (@fig-{key}-sims): "
               + per_simulation_spread(per_sim, config["holdout"], min_rows) + ".\n")
    out.append(figure(figures["per_sim"],
                      "Scatter reduction in each simulation with at least "
                      f"{min_rows} haloes (filled: discovered, open: black box; below -100%: drawn "
                      "at -100%) beside the sample's pooled reduction with its 68% (dark) and 95% "
                      "(light) intervals.", f"fig-{key}-sims"))
    if "residuals" in figures:
        out.append(f"== Residuals vs parameters\n@fig-{key}-params shows the mean residual "
                   "against each simulation parameter that varies: a flat red curve means the "
                   "relation absorbs that parameter's effect.\n")
        out.append(figure(figures["residuals"],
                          "Mean residual ($log_10$ predicted - true, about its sample's mean) "
                          "against each varying simulation parameter; grey: self-similar, red: "
                          "discovered; error bars: standard error of the mean.",
                          f"fig-{key}-params"))
    return "".join(out)


def methods_record(config: dict) -> dict:
    """What the template's Methods (``templates/methods.typ``) is written from: the input kind
    (``kind``, ``input``, ``catalog_rows``), the star-forming-gas rule, which baselines the
    targets have (``sloped``: a self-similar slope; ``flat``: none), whether the published form
    applies, how equations are chosen, the bootstrap and divergence settings, and whether the
    mock's noise floor is shown."""
    data, sr, ev = config["data"], config["sr"], config["evaluate"]
    slopes = [float(t.get("slope", 0) or 0) for t in config["targets"]]
    catalog = data.get("input") == "catalog"
    return {
        "kind": data["kind"],
        "input": data.get("input", "particles"),
        "catalog_rows": config.get("catalog", {}).get("rows", "subhalos"),
        "star_forming_gas": config.get("star_forming_gas", "exclude"),
        "sloped": any(s != 0 for s in slopes),
        "flat": any(s == 0 for s in slopes),
        "published": not catalog and any(t["y"].startswith("log10_M") and t["x"].startswith("log10_Y")
                                         for t in config["targets"]),
        "choice_data": sr.get("choice_data", "split"),
        "validation_by_group": bool(sr.get("validation_groups")),
        "bootstrap": ev["bootstrap"],
        "min_sims_for_cluster_bootstrap": ev["min_sims_for_cluster_bootstrap"],
        "divergence_dex": f"{ev['divergence_dex']:g}",
        "noise_floor": data["kind"] == "mock" and not catalog,
    }


def compact_config(config: dict) -> str:
    """The validated configuration as YAML with every simulation list written as ranges."""
    shown = yaml.safe_load(yaml.safe_dump(config))
    for sample in shown.get("samples", {}).values():
        sample["sims"] = compact_names(sample["sims"])
        sample["snapshots"] = compact_names([str(s) for s in sample["snapshots"]])
    return yaml.safe_dump(shown, sort_keys=False, width=100)


def build_time() -> dt.datetime:
    """The report's build time (UTC, whole seconds): now, or ``SOURCE_DATE_EPOCH`` where set (the
    reproducible-builds convention): two builds of the same results then give the same PDF, byte
    for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise InputFileError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time in seconds") from None
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _report_record(config: dict, generated: dt.datetime, runtime_s: float | None,
                   parts: list[str]) -> dict:
    """The data file ``report.json`` the template ``templates/report.typ`` is filled from."""
    seeds = (f"mock {config.get('mock', {}).get('seed')}, rank {config['rank']['seed']}, "
             f"SR {config['sr']['seeds']}, evaluate {config['evaluate']['seed']}")
    return {
        "study": config["study"],
        "date": f"{generated:%Y-%m-%d}",
        "generated": f"{generated:%Y-%m-%d %H:%M}",
        "version": __version__,
        "commit": git_commit(),
        "config_hash": config_hash(config),
        "seeds": seeds,
        "runtime_s": runtime_s,
        "versions": [[k, v] for k, v in package_versions().items()],
        "config_yaml": compact_config(config),
        "methods": methods_record(config),
        "parts": parts,
    }


# --------------------------------------------------------------------------- figures and build

def _save_svg(fig: Figure, path: Path) -> str:
    save_svg(fig, path)
    return path.name


def _profiles_section(config: dict, profiles: Table, work: Path,
                      figure_path: str | Path | None = None) -> str:
    first, z = first_snapshot_profiles(profiles)
    reference, note = reference_stacks(config, z)
    what = "mock" if config["data"]["kind"] == "mock" else config["data"]["kind"]
    name = "profiles.svg"
    if figure_path:  # drawn by its own job (report-profiles) while the discovery stages ran
        if not Path(figure_path).is_file():
            raise InputFileError(f"profile figure {figure_path} does not exist (report-profiles "
                                 "draws it from the profile stage's table)")
        shutil.copyfile(figure_path, work / name)
    else:
        write_profiles_figure(work / name, config, profiles)
    rule = ("in every quantity" if config["star_forming_gas"] == "include" else
            "in the density only, left out of pressure and temperature (star_forming_gas: "
            "exclude), while the CAMELS stacks include it")
    caption = (f"Mean stacked profiles of gas density, thermal pressure and mass-weighted "
               f"temperature per halo-mass bin ({lit(what)}, z = {z:.2f}; profile stage, "
               f"star-forming gas {rule}); solid: median over the study's simulations, band: "
               "16--84% over simulations."
               + (" The mock places halo gas out to 2 R#sub[200c], so its profiles drop there."
                  if what == "mock" else "") + " " + lit(note.strip()))
    return ("= Stacked gas profiles\n@fig-profiles compares the study's stacked profiles"
            + (" with the real CAMELS stacks the mock's gas model is calibrated against"
               if reference is not None else "") + ".\n" + figure(name, caption, "fig-profiles"))


def build_report(
    out_pdf: str | Path, config: dict, halos_path: str | Path,
    rank_paths: dict[str, str], sr_paths: dict[str, str], evaluate_paths: dict[str, str],
    residual_paths: dict[str, str] | None = None, per_sim_paths: dict[str, str] | None = None,
    runtime_s: float | None = None, profiles_path: str | Path | None = None,
    profiles_figure: str | Path | None = None,
) -> Path:
    """Write the report PDF (atomically) from the stage outputs of a study. ``profiles_path``:
    the profile stage's table (a section with its figure); ``profiles_figure``: that figure as
    drawn by :func:`pipeline.report.profiles_figure.write_profiles_figure` (else drawn here)."""
    import typst

    halos = read_table(halos_path)
    targets = list(config["targets"])
    samples_all = list(config["train"]) + list(config["holdout"])  # samples, in table order
    generated = build_time()
    tables = {}
    for target in targets:
        name = target["name"]
        tables[name] = {
            "rank": read_table(rank_paths[name]), "sr": read_table(sr_paths[name]),
            "evaluate": read_table(evaluate_paths[name]),
            "per_sim": read_table(per_sim_paths[name]) if per_sim_paths else Table(
                names=["sample", "relation", "reduction_log"], dtype=[str, str, float]),
            "residuals": read_table(residual_paths[name]) if residual_paths else None,
        }
    with scratch_dir(out_pdf) as work:  # beside the PDF: a killed run's scraps go at the rerun
        parts = {"summary.typ": _summary(config, targets, tables), "data.typ": _data(config, halos)}
        for target in targets:
            name = target["name"]
            t = tables[name]
            key = label_name(name)
            figs = {
                "importance": _save_svg(importance_figure(t["rank"], ""), work / f"{key}-rank.svg"),
                "pareto": _save_svg(pareto_figure(t["sr"], ""), work / f"{key}-pareto.svg"),
                "evaluation": _save_svg(evaluation_figure(t["evaluate"], samples_all),
                                        work / f"{key}-eval.svg"),
                "per_sim": _save_svg(per_simulation_figure(t["per_sim"], t["evaluate"], samples_all, ""),
                                     work / f"{key}-sims.svg"),
            }
            if t["residuals"] is not None:
                fig = residual_parameter_figure(t["residuals"], samples_all, "")
                if fig is not None:
                    figs["residuals"] = _save_svg(fig, work / f"{key}-params.svg")
            parts[f"target-{key}.typ"] = _target_section(config, target, t, figs)
        if profiles_path:
            parts["profiles.typ"] = _profiles_section(config, read_table(profiles_path), work,
                                                      profiles_figure)
        for name, markup in parts.items():
            (work / name).write_text(_PART_HEADER + markup)
        for template in _TEMPLATES.glob("*.typ"):
            shutil.copyfile(template, work / template.name)
        shutil.copyfile(_BIB, work / "references.bib")
        record = _report_record(config, generated, runtime_s, list(parts))
        (work / "report.json").write_text(json.dumps(record, indent=1))
        compiler = typst.Compiler(str(work / "report.typ"), root=str(work), ignore_system_fonts=True)
        with atomic_path(out_pdf) as out:
            compiler.compile(output=str(out), format="pdf", timestamp=generated)
    return Path(out_pdf)
