"""The study's PDF report: a typeset document (Typst, installed with the package: no TeX, nothing
downloaded) with numbered sections, figures and tables, equations typeset from the sympy
expressions, references and provenance.

:func:`build_report` reads the stage tables, draws the figures (vector SVG, text as paths) and
compiles the template ``templates/report.typ`` in a temporary directory into the PDF
(atomically). Everything the document says comes from one data file, ``report.json``: the
section records of :mod:`pipeline.report.sections` (summary, data, one per target), the profile
record, :func:`methods_record` and the provenance. The templates lay them out:
``templates/sections.typ`` (summary, data, targets, profiles), ``templates/methods.typ``
(Methods per input kind) and ``templates/report.typ`` (the document, references, provenance,
configuration). Every number quoted comes from the stage tables, and the page count does not
grow with the number of simulations (they appear as ranges, and per-simulation results as
figures).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import yaml  # noqa: E402
from astropy.table import Table  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .. import __version__  # noqa: E402
from ..errors import InputFileError  # noqa: E402
from ..inputs import DATA_KIND_KEYS, KIND_SECTIONS, InputKind  # noqa: E402
from ..io.atomic import atomic_path, scratch_dir  # noqa: E402
from ..io.tables import read_table  # noqa: E402
from ..provenance import config_hash, git_commit, package_versions  # noqa: E402
from ..study_record import Study  # noqa: E402
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
from .sections import (  # noqa: E402
    data_record,
    summary_record,
    summary_sentences,
    target_record,
)
from .typst_markup import compact_names, label_name  # noqa: E402

__all__ = ["build_report", "summary_sentences", "compact_config", "methods_record"]

_BIB = Path(__file__).with_name("references.bib")
#: the document's layout, sections, Methods and helpers (Typst), filled from report.json
_TEMPLATES = Path(__file__).with_name("templates")


def methods_record(study: Study) -> dict:
    """What the template's Methods (``templates/methods.typ``) is written from: the input kind
    (``kind``, ``input``, ``catalog_rows``), the star-forming-gas rule, which baselines the
    targets have (``sloped``: a self-similar slope; ``flat``: none), whether the published form
    applies, how equations are chosen, the bootstrap and divergence settings, and whether the
    mock's noise floor is shown."""
    sr, ev = study.section("sr"), study.section("evaluate")
    slopes = [t.slope for t in study.targets]
    kind = study.input_kind
    return {
        "kind": study.data.kind,
        "input_kind": kind.name,
        "catalog_rows": study.section("catalog")["rows"],
        "star_forming_gas": study.star_forming_gas,
        "sloped": any(s != 0 for s in slopes),
        "flat": any(s == 0 for s in slopes),
        # the published M ~ Y^(3/5) (1 - A c_gas) needs c_gas, which not every kind's rows carry
        "published": "c_gas" in {c.name for c in kind.columns(study.as_dict())} and any(
            t.y.startswith("log10_M") and t.x.startswith("log10_Y") for t in study.targets),
        "choice_data": sr["choice_data"],
        "sr_backend": sr["backend"],
        "validation_by_group": bool(sr.get("validation_groups")),
        "bootstrap": ev["bootstrap"],
        "min_sims_for_cluster_bootstrap": ev["min_sims_for_cluster_bootstrap"],
        "divergence_dex": f"{ev['divergence_dex']:g}",
        "noise_floor": study.data.is_mock and kind.mock_truth_applies,
    }


def _unused_sections(study: Study) -> set[str]:
    """Sections of the validated configuration that the study never reads (filled with defaults
    by validation): the mock's where the files are on disk, and those of the other input kinds.
    The report's configuration listing leaves them out."""
    unused = set(KIND_SECTIONS) - study.input_kind.sections
    if not study.data.is_mock:
        unused.add("mock")
    return unused


def compact_config(study: Study) -> str:
    """The validated configuration as YAML with every simulation list written as ranges, without
    the sections the input kind never reads."""
    # every mapping in key order (safe_dump sorts them), as a reader looks a key up
    shown = {k: v for k, v in yaml.safe_load(yaml.safe_dump(study.as_dict())).items()
             if k not in _unused_sections(study)}
    kind = study.input_kind
    for key in DATA_KIND_KEYS - kind.data_keys:  # keys of the other kinds' readers
        shown["data"].pop(key, None)
    if not kind.reads_particles:
        shown.get("selection", {}).pop("min_gas_particles", None)
    for sample in shown.get("samples", {}).values():
        sample["sims"] = compact_names(sample["sims"])
        sample["snapshots"] = compact_names([str(s) for s in sample["snapshots"]])
    return yaml.safe_dump(shown, sort_keys=False, width=100)


def copy_templates(work: Path, kind: InputKind) -> None:
    """The report's templates into ``work``, with the input kind's (what its Methods and Data
    section say) as ``input_kind.typ``, which the others import."""
    for template in _TEMPLATES.glob("*.typ"):
        shutil.copyfile(template, work / template.name)
    shutil.copyfile(_TEMPLATES / kind.report_template, work / "input_kind.typ")


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


def _report_record(study: Study, generated: dt.datetime, runtime_s: float | None,
                   sections: dict) -> dict:
    """The data file ``report.json`` the templates are filled from: the provenance, the
    configuration listing, the Methods record and the section records (``sections``)."""
    seed = {name: study.section(name)["seed" if name != "sr" else "seeds"]
            for name in ("mock", "rank", "sr", "evaluate")}
    seeds = (f"mock {seed['mock']}, " if study.data.is_mock else "") + (
        f"rank {seed['rank']}, SR {list(seed['sr'])}, evaluate {seed['evaluate']}")
    return {
        "study": study.name,
        "date": f"{generated:%Y-%m-%d}",
        "generated": f"{generated:%Y-%m-%d %H:%M}",
        "version": __version__,
        "commit": git_commit(),
        "config_hash": config_hash(study.as_dict()),
        "seeds": seeds,
        "runtime_s": runtime_s,
        "versions": [[k, v] for k, v in package_versions().items()],
        "config_yaml": compact_config(study),
        "methods": methods_record(study),
        **sections,
    }


# --------------------------------------------------------------------------- figures and build

def _save_svg(fig: Figure, path: Path) -> str:
    save_svg(fig, path)
    return path.name


def _profiles_record(study: Study, profiles: Table, work: Path,
                     figure_path: str | Path | None = None) -> dict:
    """The stacked-profiles section: its figure (copied from the report-profiles job, or drawn
    here) and what its caption says."""
    first, z = first_snapshot_profiles(profiles)
    reference_root = _profile_reference_root(study)
    reference, note = reference_stacks(reference_root, z)
    name = "profiles.svg"
    if figure_path:  # drawn by its own job (report-profiles) while the discovery stages ran
        if not Path(figure_path).is_file():
            raise InputFileError(f"profile figure {figure_path} does not exist (report-profiles "
                                 "draws it from the profile stage's table)")
        shutil.copyfile(figure_path, work / name)
    else:
        write_profiles_figure(work / name, profiles, reference_root)
    return {"figure": name, "what": study.data.kind, "z": f"{z:.2f}", "mock": study.data.is_mock,
            "star_forming_gas": study.star_forming_gas, "note": note.strip(),
            "reference": reference is not None}


def _profile_reference_root(study: Study) -> str | None:
    """The real stacks a mock's profiles are drawn against (``radial_profiles.reference_root``);
    none for real data, which is its own reference."""
    return str(study.section("radial_profiles")["reference_root"]) if study.data.is_mock else None


def build_report(
    out_pdf: str | Path, study: Study, halos_path: str | Path,
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
    targets = list(study.targets)
    samples_all = [*study.train, *study.holdout]  # samples, in table order
    generated = build_time()
    tables = {}
    for target in targets:
        name = target.name
        tables[name] = {
            "rank": read_table(rank_paths[name]), "sr": read_table(sr_paths[name]),
            "evaluate": read_table(evaluate_paths[name]),
            "per_sim": read_table(per_sim_paths[name]) if per_sim_paths else Table(
                names=["sample", "relation", "reduction_log"], dtype=[str, str, float]),
            "residuals": read_table(residual_paths[name]) if residual_paths else None,
        }
    with scratch_dir(out_pdf) as work:  # beside the PDF: a killed run's scraps go at the rerun
        records = []
        for target in targets:
            name = target.name
            t = tables[name]
            key = label_name(name)
            figs = {
                "importance": _save_svg(importance_figure(t["rank"], ""), work / f"{key}-rank.svg"),
                "pareto": _save_svg(pareto_figure(t["sr"], ""), work / f"{key}-pareto.svg"),
                "evaluation": _save_svg(evaluation_figure(t["evaluate"], samples_all),
                                        work / f"{key}-eval.svg"),
            }
            fig = per_simulation_figure(t["per_sim"], t["evaluate"], samples_all, "")
            if fig is not None:  # none where no simulation has enough haloes (an LH set)
                figs["per_sim"] = _save_svg(fig, work / f"{key}-sims.svg")
            if t["residuals"] is not None:
                fig = residual_parameter_figure(t["residuals"], samples_all, "")
                if fig is not None:
                    figs["residuals"] = _save_svg(fig, work / f"{key}-params.svg")
            records.append(target_record(study, target, t, figs))
        sections = {"summary": summary_record(study, tables),
                    "data": data_record(study, halos), "targets": records,
                    "profiles": (_profiles_record(study, read_table(profiles_path), work,
                                                  profiles_figure) if profiles_path else None)}
        copy_templates(work, study.input_kind)
        shutil.copyfile(_BIB, work / "references.bib")
        record = _report_record(study, generated, runtime_s, sections)
        (work / "report.json").write_text(json.dumps(record, indent=1))
        compiler = typst.Compiler(str(work / "report.typ"), root=str(work), ignore_system_fonts=True)
        with atomic_path(out_pdf) as out:
            compiler.compile(output=str(out), format="pdf", timestamp=generated)
    return Path(out_pdf)
