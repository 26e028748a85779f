"""What the report's sections say, as data: the records of ``report.json`` that the Typst
templates (``templates/sections.typ``) lay out.

Each function here reads stage tables and returns plain values: numbers already formatted as the
report prints them, sentences as plain text (the template inserts a string as literal text, so
user data needs no escaping), equations as Typst math strings (built from the sympy expressions
by :mod:`pipeline.report.typst_math`), and flags the templates branch on (the input kind, which
relations exist). Layout, headings, captions and the prose around the numbers live in the
templates: changing a table or a sentence is a template edit.
"""

from __future__ import annotations

import re

import numpy as np
import sympy as sp
from astropy.table import Table

from ..discovery.coverage import coverage_warnings
from ..discovery.records import EvaluateMeta, RankMeta
from ..discovery.sr.record import SRMeta
from ..io.equations import parse_equation
from ..study_record import Study, Target
from .typst_markup import compact_names, label_name
from .typst_math import (
    column_symbol,
    slope_math,
    typst_math,
    typst_math_lines,
    value_with_error,
)

__all__ = ["summary_record", "data_record", "target_record", "transfer_verdicts",
           "summary_sentences", "per_simulation_spread", "RELATION_NAMES"]

RELATION_NAMES = {"baseline": "self-similar", "discovered": "discovered",
                  "alternative": "other slope", "blackbox": "black box", "published": "published",
                  "floor": "noise floor"}

#: the paper of each symbolic-regression engine (the one the study ran is cited, no other)
ENGINE_CITATION = {"operon": "burlacu2020", "pysr": "cranmer2023"}

_DASH = "–"  # set as literal text: the en dash itself


# --------------------------------------------------------------------------- numbers

def _all_masses(evaluation: Table, sample_name: str, relation: str):
    sel = evaluation[(evaluation["sample"] == sample_name) & (evaluation["bin"] == "all")
                     & (evaluation["relation"] == relation)]
    return sel[0] if len(sel) else None


def _fmt(row, key: str, digits: int = 3, scale: float = 1.0) -> str:
    """``row[key]`` to ``digits`` decimals, ``--`` when absent or not finite."""
    if row is None or key not in row.colnames or not np.isfinite(row[key]):
        return _DASH
    return _minus(f"{scale * row[key]:.{digits}f}")


def _minus(number: str) -> str:
    """A formatted number with a typographic minus (text is set literally: no markup turns the
    hyphen into one)."""
    return number.replace("-", "\u2212")


def _interval(row, key: str, level: int, pct: bool = False) -> str:
    scale = 100.0 if pct else 1.0
    digits = 0 if pct else 3
    return (f"{scale * row[f'{key}_lo{level}']:.{digits}f} to "
            f"{scale * row[f'{key}_hi{level}']:.{digits}f}")


def _scatter(row) -> dict:
    """The log scatter with its 68% interval (the template prints ``v [lo, hi]``)."""
    return {"v": _fmt(row, "scatter_log"), "lo": _fmt(row, "scatter_log_lo68"),
            "hi": _fmt(row, "scatter_log_hi68")}


def _reduction(row, level: int = 95) -> dict:
    """The reduction in percent with its ``level`` interval."""
    return {"v": _fmt(row, "reduction_log", 0, 100), "lo": _fmt(row, f"reduction_log_lo{level}", 0, 100),
            "hi": _fmt(row, f"reduction_log_hi{level}", 0, 100)}


def _within(row) -> str:
    """'97 / 100%': the fractions within 0.1 and 0.2 dex (older tables lack them: '--')."""
    if "frac_within_0p1dex" not in row.colnames or not np.isfinite(row["frac_within_0p1dex"]):
        return _DASH
    return f"{100 * row['frac_within_0p1dex']:.0f} / {100 * row['frac_within_0p2dex']:.0f}%"


# --------------------------------------------------------------------------- sentences

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
    runs = [r for r in SRMeta.from_meta(sr.meta).engine_runs if r.get("stopped_by") == "time cap"]
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
    warnings = coverage_warnings(list(EvaluateMeta.from_meta(evaluation.meta).parameter_coverage))
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
        text = (f"{sample_name}: {v[ok].min():.0f}% to {v[ok].max():.0f}% (median "
                f"{np.median(v[ok]):.0f}%, {int(ok.sum())} simulations)" if ok.any()
                else f"{sample_name}: no simulation with {min_rows} haloes or more")
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


# --------------------------------------------------------------------------- equations

def relation_lhs(target: Target) -> str:
    """``y = s x`` of a target in Typst math (``y =`` for a target without a slope)."""
    if not target.slope:
        return f"{column_symbol(target.y)} ="
    return (f"{column_symbol(target.y)} = {slope_math(target.slope)} "
            f"{column_symbol(target.x)}")


def _sr_equation(sr: Table, text: str, n_constants: int = 0) -> sp.Expr:
    """An equation of the SR table, parsed as data over the table's features (and the template's
    constants _c0, _c1, ...): a results folder may come from someone else."""
    names = [*map(str, SRMeta.from_meta(sr.meta).features), *(f"_c{i}" for i in range(n_constants))]
    return parse_equation(str(text), names, "SR table: ")


def display_body(lines: list[str]) -> str:
    """One display equation from :func:`typst_math_lines`' lines: aligned at the equals sign,
    each further line indented under it (Typst math: ``&`` aligns, a backslash ends a line)."""
    if len(lines) <= 1:
        return "".join(lines)
    lhs, _, rhs = lines[0].partition(" = ")
    return f"{lhs} &= {rhs} \\\n" + " \\\n".join(f"& quad {line}" for line in lines[1:])


def equation_lines(sr: Table, target: Target) -> dict:
    """Typst display math of the chosen relation: ``full`` (constants written in), ``template``
    (constants as c_i; empty without constants) and ``constants`` (c_i = value(error), a few per
    line; empty without constants)."""
    lhs = relation_lhs(target)
    meta = SRMeta.from_meta(sr.meta)
    full = display_body(typst_math_lines(_sr_equation(sr, meta.chosen), lhs, digits=4))
    template, constants = meta.chosen_template, meta.constants
    if not template or not constants:
        return {"full": full, "template": "", "constants": ""}
    values = [f"c_{c.name.split('_')[1]} = {value_with_error(c.value, c.error)}"
              for c in constants]
    per_line = 4
    return {"full": full,
            "template": display_body(typst_math_lines(_sr_equation(sr, template, len(constants)),
                                                      lhs)),
            "constants": " \\\n".join(", quad ".join(values[i:i + per_line])
                                        for i in range(0, len(values), per_line))}


# --------------------------------------------------------------------------- summary

def summary_record(study: Study, tables: dict) -> dict:
    """The summary: per target its equation, verdicts, the held-out table and sentences."""
    holdout = list(study.holdout)
    out = []
    for target in study.targets:
        name = target.name
        ev, sr = tables[name]["evaluate"], tables[name]["sr"]
        verdict = SRMeta.from_meta(sr.meta).verdict
        rows = []
        for sample_name in holdout:
            r = {rel: _all_masses(ev, sample_name, rel) for rel in RELATION_NAMES}
            disc = r["discovered"]
            if disc is None:
                continue
            rows.append({"sample": sample_name, "n": str(disc["n_halos"]),
                         "sims": str(disc["n_sims"]), "baseline": _fmt(r["baseline"], "scatter_log"),
                         "discovered": _scatter(disc), "reduction": _reduction(disc),
                         "blackbox": _fmt(r["blackbox"], "scatter_log"),
                         "published": _fmt(r["published"], "scatter_log"),
                         "floor": _fmt(r["floor"], "scatter_log"), "within": _within(disc),
                         "diverged": str(disc["n_diverged"]),
                         "extrap": _fmt(disc, "extrap_frac", 1, 100) + "%"
                         if np.isfinite(disc["extrap_frac"]) else _DASH})
        out.append({
            "name": name, "key": label_name(name), "y": target.y, "x": target.x,
            "recommended": bool(verdict.get("recommended", True)),
            "verdict_data": str(verdict.get("data", "")),
            "equation": equation_lines(sr, target)["full"],
            "notes": [*transfer_verdicts(ev, holdout), *_search_warnings(sr)],
            "rows": rows, "has_floor": any(row["floor"] != _DASH for row in rows),
            "sentences": summary_sentences(ev, holdout)})
    return {"train": ", ".join(study.train), "holdout": ", ".join(holdout),
            "noise_floor": study.data.is_mock and study.input_kind.mock_truth_applies,
            "targets": out}


# --------------------------------------------------------------------------- data

def data_record(study: Study, halos: Table) -> dict:
    """The data section: what was read, the selection, ragged inputs and the samples' table."""
    data = study.data
    before = halos.meta.get("halos_before_cuts", {})
    after = halos.meta.get("halos_after_cuts", {})
    column = "sample" if "sample" in halos.colnames else "suite"
    bin_column = study.section("evaluate")["bin_column"]
    samples = []
    for name, sample in study.samples.items():
        role = {"holdout": "held out"}.get(sample.role, sample.role)
        lm = np.asarray(halos[bin_column][halos[column] == name], dtype=float)
        samples.append({
            "name": name, "role": role, "suite_set": f"{sample.suite} {sample.set}",
            "n_sims": str(len(sample.sims)), "sims": compact_names(sample.sims, max_pieces=4),
            "snapshots": compact_names([str(s) for s in sample.snapshots], max_pieces=4),
            "before": str(before.get(name, 0)), "after": str(after.get(name, 0)),
            "range": f"{lm.min():.2f}–{lm.max():.2f}" if len(lm) else _DASH})
    redshifts = sorted({round(float(z), 3) for z in halos["redshift"]})
    z_text = (", ".join(f"{z:g}" for z in redshifts) if len(redshifts) <= 12
              else f"{redshifts[0]:g} to {redshifts[-1]:g} ({len(redshifts)} values)")
    sel, cat = study.section("selection"), study.section("catalog")
    from_nprofs = halos.meta.get("stacks_halo_count_from_nprofs") or {}
    missing = halos.meta.get("inputs_missing") or {}
    return {
        "kind": data.kind, "input_kind": study.input_kind.name, "root": data.root,
        "layout": data.layout, "redshifts": z_text,
        "selection": {"min": str(sel["log10_mass_min_msun"]),
                      "max": str(sel["log10_mass_max_msun"]),
                      "min_gas_particles": str(sel["min_gas_particles"]),
                      "star_forming_gas": study.star_forming_gas},
        "catalog": {"rows": str(cat["rows"]), "mass_min": str(cat["log10_mass_min_msun"]),
                    "mass": "Mtot" if cat["rows"] == "subhalos" else "M200c",
                    "min_particles": str(cat["min_particles"]),
                    "centrals_only": bool(cat["centrals_only"])},
        "from_nprofs": ({"count": str(sum(from_nprofs.values())),
                         "per_sample": ", ".join(f"{k}: {v}" for k, v in from_nprofs.items())}
                        if from_nprofs else None),
        "ragged": [{"sample": name,
                    "counts": ", ".join(f"{k} {v['found']}/{v['expected']}"
                                        for k, v in per_bin.items())}
                   for name, per_bin in missing.items()],
        "own_roots": "; ".join(f"{n}: {s.root}" for n, s in study.samples.items()
                               if s.root != data.root),
        "bin_column": bin_column, "samples": samples}


# --------------------------------------------------------------------------- one target

def _identification(rank: Table) -> dict | None:
    """What tells the training samples apart at fixed x (rank meta ``identify``), or None with
    one training sample."""
    ident = RankMeta.from_meta(rank.meta).identify
    if not ident:
        return None
    scores = {str(r["feature"]): float(r["identify_score"]) for r in rank}
    flagged = list(ident["flagged"])
    top = max(scores, key=scores.__getitem__)
    return {"threshold": f"{ident['threshold']:g}", "rule": str(ident["rule"]),
            "flagged": ", ".join(f"{f} {scores[f]:+.2f}" for f in flagged),
            "largest": f"{top} {scores[top]:+.2f}"}


def _truth_inputs(study: Study, target: Target, columns: list[str]) -> str:
    """The halo-finder or truth quantities a target may read (``allow_truth_features``): the
    reader must know the relation is not observational. Empty where none."""
    if not target.allow_truth_features:
        return ""
    from ..columns import is_truth
    from ..config import registry_columns

    registry = registry_columns(study.as_dict())
    return ", ".join(c for c in dict.fromkeys(columns) if is_truth(c, registry))


def _ranking(study: Study, target: Target, rank: Table) -> dict:
    selected = [str(f) for f in rank["feature"][np.asarray(rank["selected"], bool)]]
    meta = RankMeta.from_meta(rank.meta)
    groups, dropped = meta.correlated_groups, meta.dropped_features
    return {
        "train": ", ".join(study.train),
        "skill": f"{meta.r2_cv:.2f} (per fold ± {meta.r2_cv_std:.2f}; {meta.cv_split})",
        "selected": [column_symbol(f) for f in selected],
        "groups": "; ".join(", ".join(g) for g in groups),
        "dropped": ", ".join(f"{k} ({v})" for k, v in dropped.items()),
        "identification": _identification(rank),
        "truth_inputs": _truth_inputs(study, target, [target.x, *map(str, rank["feature"])]),
        "diamonds": bool(groups) and "group_importance" in rank.colnames}


def split_summary(meta: dict) -> str:
    """The SR table's note on the data the choice was made on, without a list of simulation
    names: tables written before ``validation_simulations`` held the names in the note."""
    note = str(meta.get("validation_split", "by halo"))
    if "validation_simulations" not in meta and note.startswith("extremes"):
        note = re.sub(r" \((?:[^()]|\([^()]*\))*\)$", "", note)
    return note


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


def _max_cancellation(sr: Table) -> str:
    return f"{SRMeta.from_meta(sr.meta).max_cancellation:g}"


def _conditioning(sr: Table) -> dict | None:
    """The chosen equation's conditioning (the SR table's measures), or None in older tables."""
    if "cancellation" not in sr.colnames or not np.any(sr["chosen"]):
        return None
    row = sr[np.asarray(sr["chosen"], dtype=bool)][0]
    return {"cancellation": f"{row['cancellation']:.2g}", "limit": _max_cancellation(sr),
            "undetermined": str(int(row["n_undetermined"])),
            "constants": str(int(row["n_constants"])),
            "worst": f"{row['worst_relative_error']:.2g}",
            "condition": f"{row['condition_number']:.2g}",
            "rule": SRMeta.from_meta(sr.meta).conditioning_rule}


def _undetermined_constants(sr: Table) -> str:
    """The chosen equation's constants whose 1-sigma error exceeds their magnitude (or that have
    none): traded against others, only their combinations are measured."""
    return ", ".join(SRMeta.from_meta(sr.meta).undetermined)


def _alternative(ev: Table, target: Target) -> dict | None:
    """The equation chosen under the other slope constraint and the held-out scatter of both."""
    meta = EvaluateMeta.from_meta(ev.meta)
    alt = meta.alternative
    if not alt:
        return None
    features = meta.features_of("alternative")
    lines = display_body(typst_math_lines(parse_equation(str(alt["expression"]), features,
                                                         "evaluate table (alternative): "),
                                          relation_lhs(target), digits=4))
    rows = [{"sample": sample,
             **{rel: _scatter(_all_masses(ev, sample, rel))
                for rel in ("baseline", "discovered", "alternative")}}
            for sample in dict.fromkeys(np.asarray(ev["sample"][ev["role"] == "holdout"]).astype(str))]
    return {"constraint": str(alt["constraint"]), "equation": lines, "rows": rows}


def _front(sr: Table, transfer: bool) -> dict:
    """The Pareto-front table: losses, conditioning, the equation as inline math, the mark."""
    out_columns = [c for c in sr.colnames if c.startswith("loss_out_")][:3]
    rows = []
    for r in sr:
        canc = r["cancellation"] if "cancellation" in r.colnames else np.nan
        choosable = bool(r["choosable"]) if "choosable" in r.colnames else True
        rows.append({"size": str(r["complexity"]), "train": f"{r['loss_train']:.3g}",
                     "val": f"{r['loss_val']:.3g}", "outs": [f"{r[c]:.3g}" for c in out_columns],
                     "r2": _minus(f"{r['r2_val']:.3f}"),
                     "canc": _DASH if not np.isfinite(canc) else f"{canc:.2g}",
                     "undet": str(int(r["n_undetermined"])) if "n_undetermined" in r.colnames
                     else _DASH,
                     "math": typst_math(_sr_equation(sr, r["expression"]), digits=3, inline=True),
                     "mark": "✓" if r["chosen"] else ("" if choosable else "✗")})
    return {"out_columns": [c.removeprefix("loss_out_") for c in out_columns], "rows": rows,
            "max_cancellation": _max_cancellation(sr), "val_name": "left out" if transfer else "val"}


def _discovered(study: Study, target: Target, t: dict) -> dict:
    sr, ev = t["sr"], t["evaluate"]
    meta = SRMeta.from_meta(sr.meta)
    transfer = meta.choice_data == "transfer"
    domain, rewrites = meta.domain, meta.rewrites
    equations = equation_lines(sr, target)
    return {
        "backend": str(study.section("sr")["backend"]),
        "citation": ENGINE_CITATION.get(str(study.section("sr")["backend"]), ""),
        "slope_kept": "fixed" in meta.slope,
        "choice_rule": meta.choice_rule, "transfer": transfer,
        "split": split_summary(sr.meta),
        "n_rejected": int(domain.get("n_rejected", 0)) if isinstance(domain, dict) else 0,
        "rejection_kinds": _rejection_kinds(list(meta.rejected)),
        "equation": equations["template"] or equations["full"],
        "constants": equations["constants"],
        "relation_file": f"reports/{study.name}/relations/{target.name}.json",
        "conditioning": _conditioning(sr),
        "undetermined": _undetermined_constants(sr),
        "rewrites": "; ".join(f"{r['rule']}: {r['before']} -> {r['after']} (prediction moved by "
                              f"at most {r['max_change']:.1e})" for r in rewrites),
        "alternative": _alternative(ev, target),
        "front": _front(sr, transfer)}


def _evaluation(ev: Table) -> dict:
    rows = [{"sample": f"{r['sample']} ({r['role']})",
             "relation": RELATION_NAMES.get(r["relation"], str(r["relation"])),
             "n": str(r["n_halos"]), "diverged": str(r["n_diverged"]), "bias": _fmt(r, "bias_log"),
             "scatter": _scatter(r), "frac": _fmt(r, "scatter_frac"), "rms": _fmt(r, "rms_log"),
             "reduction": None if r["relation"] == "baseline" else _reduction(r)}
            for r in ev[ev["bin"] == "all"]]
    notes = sorted({f"{r['sample']}, log10 M in [{r['log10_M_lo']:g}, {r['log10_M_hi']:g}): "
                    f"{r['note']}" for r in ev if "note" in ev.colnames
                    and not np.ma.is_masked(r["note"]) and str(r["note"]).strip()})
    return {"relations": sorted(set(np.asarray(ev["relation"]).astype(str))), "rows": rows,
            "notes": notes[:2] if len(notes) > 3 else notes,
            "more_notes": len(notes) - 2 if len(notes) > 3 else 0}


def target_record(study: Study, target: Target, t: dict, figures: dict[str, str]) -> dict:
    """One target's section: ranking, discovered relation (with its Pareto front), held-out
    evaluation, transfer across simulations and residuals against the parameters; ``figures``:
    the file of each figure drawn (``per_sim`` and ``residuals`` only where they carry data)."""
    min_rows = study.section("evaluate")["min_halos_per_sim"]
    return {
        "name": target.name, "key": label_name(target.name),
        "y": column_symbol(target.y), "x": column_symbol(target.x),
        "slope": slope_math(target.slope) if target.slope else "",
        "figures": figures,
        "ranking": _ranking(study, target, t["rank"]),
        "discovered": _discovered(study, target, t),
        "evaluation": _evaluation(t["evaluate"]),
        "transfer": {"min_rows": str(min_rows),
                     "spread": per_simulation_spread(t["per_sim"], list(study.holdout), min_rows)}}
