"""The typeset report: equations from sympy, text that cannot break the markup, and a length
that does not grow with the number of simulations."""

import numpy as np
import pytest
import sympy as sp
from astropy.table import Table, vstack
from conftest import BY_HALO, REPO

from pipeline.report.typst_markup import compact_names, lit
from pipeline.report.typst_math import typst_math
from pipeline.study_record import Study


@pytest.mark.parametrize("expression, expected", [
    ("0.595*sqrt(Mstar_over_Mgas/(c_NFW*c_gas)) + 17.38",
     '0.595 sqrt(frac(M_* \\/ M_"gas", c_"NFW" c_"gas")) + 17.4'),
    ("_c0 + _c1*c_gas", 'c_0 + c_1 c_"gas"'),
    ("exp(-2*c_gas)*log(A_SN1)", 'exp(-2 c_"gas") ln(A_"SN1")'),
    ("(Mstar_over_Mgas/c_NFW)**(1/4)", 'root(4, frac(M_* \\/ M_"gas", c_"NFW"))'),
    ("x**0.6 - 3*y/2", '"x"^(0.600) - frac(3 "y", 2)'),
    ("1/(1 + c_gas)", 'frac(1, c_"gas" + 1)'),
    ("2.5e-8*f_gas200c", '2.50 times 10^(-8) f_"gas"'),
])
def test_sympy_expressions_typeset_as_typst_math(expression, expected):
    assert typst_math(sp.sympify(expression)) == expected


def test_text_is_escaped_for_the_markup():
    assert lit("LH_0*2 <x> [y] $z #w @v") == "LH\\_0\\*2 \\<x\\> \\[y\\] \\$z \\#w \\@v"
    assert lit("12.3 is a number") == "12\\.3 is a number"
    assert lit("a\nb") == "a b"


def test_simulation_lists_become_ranges():
    assert compact_names([f"LH_{i}" for i in range(1000)]) == "LH_0..LH_999"
    assert compact_names(["1P_22", "1P_23", "1P_25", "fiducial"]) == "1P_22..1P_23, 1P_25, fiducial"
    many = compact_names([f"S{i}" for i in range(0, 60, 2)])
    assert many.endswith("(18 more groups, 30 in all)")


def _study_tables(tmp_path, n_sims: int):
    """Every stage table of a small synthetic study with ``n_sims`` simulations per suite, from
    the pipeline's own functions (fast settings)."""
    from pipeline.config import validate_config
    from pipeline.discovery.dataset import Target, simulation_ids
    from pipeline.discovery.evaluate import EvaluateOptions, evaluate_study
    from pipeline.discovery.rank import RankOptions, rank_features
    from pipeline.discovery.sr.search import SROptions, discover
    from pipeline.io.tables import write_table

    rng = np.random.default_rng(0)
    per_sim = max(2, 2000 // n_sims)
    parts = []
    for suite in ("IllustrisTNG", "SIMBA"):
        n = n_sims * per_sim
        x = rng.uniform(-6, -4, n)
        c = rng.uniform(0.3, 0.7, n)
        parts.append(Table({
            "suite": [suite] * n, "sim": [f"LH_{i // per_sim}" for i in range(n)],
            "snapshot": np.full(n, 90), "group_index": np.arange(n), "redshift": np.zeros(n),
            "log10_Y200c_ss": x, "c_gas": c, "A_SN1": rng.uniform(0.25, 4, n_sims)[np.arange(n) // per_sim],
            "log10_M200c": 0.6 * x + 17.0 - 0.5 * c + 0.02 * rng.normal(size=n)}))
    halos = vstack(parts)
    halos.meta = {"halos_before_cuts": {"IllustrisTNG": len(parts[0]), "SIMBA": len(parts[1])},
                  "halos_after_cuts": {"IllustrisTNG": len(parts[0]), "SIMBA": len(parts[1])}}
    config = validate_config({
        "study": f"s{n_sims}", "train": ["IllustrisTNG"], "holdout": ["SIMBA"],
        "data": {"kind": "camels", "root": "data"},
        "samples": {suite: {"suite": suite, "sims": [f"LH_0..LH_{n_sims - 1}"]}
                    for suite in ("IllustrisTNG", "SIMBA")},
        "targets": [{"name": "M_from_Y", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": 0.6}],
        "features": ["log10_Y200c_ss", "c_gas", "A_SN1"], "rank": {"top_k": 2},
        "sr": {"generations": 5, "population_size": 50, "seeds": [0], "max_evaluations": 5000},
        "evaluate": {"mass_bins": [12.0, 13.5, 15.0], "bootstrap": 50}})
    target = Target("M_from_Y", "log10_M200c", "log10_Y200c_ss", 0.6)
    train = halos[halos["suite"] == "IllustrisTNG"]
    features = ["log10_Y200c_ss", "c_gas", "A_SN1"]
    x = np.column_stack([np.asarray(train[f]) for f in features])
    rank = rank_features(x, target.residual(train), features,
                         RankOptions(n_estimators=20, folds=3, repeats=2, top_k=2),
                         sims=simulation_ids(train))
    chosen = [str(f) for f in rank["feature"][rank["selected"]]]
    xs = np.column_stack([np.asarray(train[f]) for f in chosen])
    sr = discover(xs, target.residual(train), chosen, SROptions(**BY_HALO, generations=5, population_size=50,
                                                                 seeds=[0], max_evaluations=5000))
    metrics, resid, per_sim_table = evaluate_study(halos, target, sr.meta["chosen"], chosen,
                                                   ["IllustrisTNG"], ["SIMBA"],
                                                   EvaluateOptions(mass_bins=[12.0, 13.5, 15.0],
                                                                   bootstrap=50))
    paths = {}
    for name, table in (("halos", halos), ("rank", rank), ("sr", sr), ("evaluate", metrics),
                        ("residuals", resid), ("per_sim", per_sim_table)):
        paths[name] = tmp_path / f"{name}.{'ecsv' if name in ('rank', 'sr', 'evaluate', 'per_sim') else 'h5'}"
        write_table(table, paths[name])
    return config, paths


@pytest.mark.slow
def test_report_length_does_not_grow_with_the_number_of_simulations(tmp_path):
    from pypdf import PdfReader

    from pipeline.report.build import build_report

    pages, text = {}, {}
    for n_sims in (10, 1000):
        work = tmp_path / str(n_sims)
        work.mkdir()
        config, p = _study_tables(work, n_sims)
        out = build_report(work / "report.pdf", Study.from_config(config), p["halos"],
                           {"M_from_Y": p["rank"]}, {"M_from_Y": p["sr"]}, {"M_from_Y": p["evaluate"]},
                           {"M_from_Y": p["residuals"]}, {"M_from_Y": p["per_sim"]})
        reader = PdfReader(out)
        pages[n_sims] = len(reader.pages)
        text[n_sims] = " ".join(" ".join(pg.extract_text().split()) for pg in reader.pages)
    assert pages[1000] == pages[10] and pages[10] <= 8
    assert "LH_0..LH_999" in text[1000] and "LH_500" not in text[1000]


@pytest.mark.parametrize("study, has, lacks", [
    ("config.yaml", ["particle snapshots", "Star-forming gas is left out", "published", "Noise floor"],
     ["Subfind group catalogs alone"]),
    ("studies/mock_subhalo_mass.yaml", ["Subfind group catalogs alone", "subhalo", "embedded mock"],
     ["Star-forming", "published", "Noise floor"]),
    ("studies/camels1p_tng_to_simba.yaml", ["stacked gas profiles", "published", "self-similar slope"],
     ["Noise floor", "embedded mock", "Subfind group catalogs alone"]),
])
def test_methods_are_written_for_the_study_s_input_kind(study, has, lacks, tmp_path):
    """The Methods cited the Y^(3/5) form and the star-forming-gas rule even for catalog rows.
    The template's Methods, filled from the study's record, typeset on its own."""
    import json
    import shutil

    import typst
    import yaml
    from pypdf import PdfReader

    from pipeline.config import validate_config
    from pipeline.inputs import input_kind
    from pipeline.report.build import copy_templates, methods_record

    config = validate_config(yaml.safe_load((REPO / study).read_text()))
    copy_templates(tmp_path, input_kind(config["data"]))
    shutil.copyfile(REPO / "pipeline" / "report" / "references.bib", tmp_path / "references.bib")
    record = methods_record(Study.from_config(config))
    (tmp_path / "m.json").write_text(json.dumps(record))
    (tmp_path / "doc.typ").write_text('#import "methods.typ": methods\n#methods(json("m.json"))\n'
                                      '#bibliography("references.bib")\n')
    typst.compile(str(tmp_path / "doc.typ"), output=str(tmp_path / "doc.pdf"), root=str(tmp_path))
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "doc.pdf").pages)
    text = text[:text.index("Bibliography")] if "Bibliography" in text else text
    for phrase in has:
        assert phrase in text, phrase
    for phrase in lacks:
        assert phrase not in text, phrase


def _lh_like_residuals(n_sims: int, rows_per_sim: int, seed: int = 0):
    """Residuals of an LH-like held-out sample: ``rows_per_sim`` stacks per simulation."""
    from astropy.table import Table

    rng = np.random.default_rng(seed)
    n = n_sims * rows_per_sim
    base = 0.1 * rng.normal(size=n)
    return Table({"log10_M200c": np.full(n, 12.5), "sample": ["lh"] * n, "suite": ["TNG"] * n,
                  "role": ["holdout"] * n, "sim": np.repeat([f"LH_{i}" for i in range(n_sims)],
                                                            rows_per_sim),
                  "resid_baseline": base, "diverged_baseline": np.zeros(n, bool),
                  "resid_discovered": 0.5 * base + 0.02 * rng.normal(size=n),
                  "diverged_discovered": np.zeros(n, bool)})


def test_per_simulation_numbers_stay_meaningful_at_lh_scale():
    """1000 simulations with 2 stacks each printed '-50636% to 100%' and drew an axis to
    -250000%: a scatter of two rows is no statistic."""
    from types import SimpleNamespace

    from pipeline.discovery.evaluate import per_simulation_table
    from pipeline.report.figures import per_simulation_figure
    from pipeline.report.sections import per_simulation_spread

    rels = [SimpleNamespace(name="baseline"), SimpleNamespace(name="discovered")]
    few = per_simulation_table(_lh_like_residuals(1000, 2), rels, ["lh"], (12.0, 13.0), min_halos=10)
    assert len(few) == 2000 and np.isnan(np.asarray(few["reduction_log"], float)).all()
    assert np.isfinite(np.asarray(few["rms_log"], float)).all()  # defined for any count
    text = per_simulation_spread(few, ["lh"], 10)
    assert per_simulation_figure(few, Table({"sample": [], "bin": [], "relation": []}), ["lh"],
                                 "") is None  # nothing to draw: no empty figure in the report
    assert "no simulation with 10 haloes or more" in text and "1000 simulation(s) with fewer" in text
    assert "%" not in text.split(";")[0] and "nan" not in text
    many = per_simulation_table(_lh_like_residuals(30, 40), rels, ["lh"], (12.0, 13.0), min_halos=10)
    text = per_simulation_spread(many, ["lh"], 10)
    low, high = (float(v) for v in text.split(": ")[1].split(" (")[0].replace("%", "").split(" to "))
    assert 0 < low < high < 100 and "30 simulations" in text and "fewer" not in text
    evaluation = Table({"sample": ["lh"], "bin": ["all"], "relation": ["discovered"],
                        "role": ["holdout"], **{f"reduction_log{s}": [0.5] for s in
                                                ("", "_lo68", "_hi68", "_lo95", "_hi95")}})
    wild = vstack([few, many])
    wild["reduction_log"][-1] = -2500.0  # one simulation far below: drawn at the edge
    fig = per_simulation_figure(wild, evaluation, ["lh"], "")
    lo, hi = fig.axes[0].get_xlim()
    assert -106 < lo and hi < 106


def _profile_rows(redshift: float, scale: float) -> Table:
    """A profile-stage table of one suite, two simulations and one mass bin at ``redshift``."""
    r = np.geomspace(0.02, 2.0, 8)
    rows = []
    for sim in ("LH_0", "LH_1"):
        t = Table({"suite": ["IllustrisTNG"] * 8, "sim": [sim] * 8, "redshift": [redshift] * 8,
                   "mass_bin": ["12-12.3"] * 8, "r": r})
        for q in ("density", "pressure", "temperature"):
            t[f"{q}_mean"] = scale * r**-2.0
        rows.append(t)
    return vstack(rows)


def test_profiles_figure_job_draws_the_lowest_redshift_reproducibly(tmp_path, capsys):
    from pipeline.cli import main
    from pipeline.io.tables import write_table
    from pipeline.report.profiles_figure import first_snapshot_profiles

    profiles = vstack([_profile_rows(0.5, 1e3), _profile_rows(0.0, 1e5)])
    first, z = first_snapshot_profiles(profiles)
    assert z == 0.0 and len(first) == 16 and np.all(first["density_mean"] >= 1e5 * 2.0**-2)
    write_table(profiles, tmp_path / "profiles.h5")
    options = ('{"data": {"kind": "mock"}, "radial_profiles": {"reference_root": "%s"}}'
               % (tmp_path / "absent"))
    for out in ("a.svg", "b.svg"):
        assert main(["report-profiles", "--radial-profiles", str(tmp_path / "profiles.h5"),
                     "--options", options, "--out", str(tmp_path / out)]) == 0
    svg = (tmp_path / "a.svg").read_bytes()
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert svg == (tmp_path / "b.svg").read_bytes()  # same table, same bytes (fixed id salt)
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left beside it
    # --profiles-figure without the table it shows: refused before anything is read
    assert main(["report", "--halos", "h.h5", "--rank", "r", "--sr", "s", "--evaluate", "e",
                 "--residuals", "x", "--per-sim", "p", "--profiles-figure", str(tmp_path / "a.svg"),
                 "--options", "{}", "--out", str(tmp_path / "r.pdf")]) == 1
    assert "--profiles-figure needs the --radial-profiles table" in capsys.readouterr().err


@pytest.mark.slow
def test_report_takes_the_profile_figure_job_s_file_and_names_a_missing_one(tmp_path, capsys):
    from pypdf import PdfReader

    from pipeline.cli import main
    from pipeline.errors import InputFileError
    from pipeline.io.tables import write_table
    from pipeline.report.build import build_report

    config, p = _study_tables(tmp_path, 4)
    write_table(vstack([_profile_rows(0.0, 1e5)]), tmp_path / "profiles.h5")
    args = (Study.from_config(config), p["halos"], {"M_from_Y": p["rank"]}, {"M_from_Y": p["sr"]},
            {"M_from_Y": p["evaluate"]}, {"M_from_Y": p["residuals"]}, {"M_from_Y": p["per_sim"]})
    with pytest.raises(InputFileError, match="absent.svg"):
        build_report(tmp_path / "report.pdf", *args, profiles_path=tmp_path / "profiles.h5",
                     profiles_figure=tmp_path / "absent.svg")
    assert not (tmp_path / "report.pdf").exists()  # nothing that looks complete, no scraps
    assert not list(tmp_path.glob(".report.pdf*"))
    # the profile table the figure job reads: missing -> the file named, nothing written
    assert main(["report-profiles", "--radial-profiles", str(tmp_path / "none.h5"), "--options",
                 '{"data": {"kind": "camels"}}', "--out", str(tmp_path / "p.svg")]) == 1
    assert "none.h5" in capsys.readouterr().err and not (tmp_path / "p.svg").exists()
    assert main(["report-profiles", "--radial-profiles", str(tmp_path / "profiles.h5"), "--options",
                 '{"data": {"kind": "camels"}}', "--out", str(tmp_path / "p.svg")]) == 0
    out = build_report(tmp_path / "report.pdf", *args, profiles_path=tmp_path / "profiles.h5",
                       profiles_figure=tmp_path / "p.svg")
    text = " ".join(" ".join(pg.extract_text().split()) for pg in PdfReader(out).pages)
    assert "Stacked gas profiles" in text


@pytest.mark.parametrize("value, error, expected", [
    (0.2001, 0.0041, "0.2001(41)"),
    (53.56, 1.1, "53.6(11)"),
    (18.73, 0.0099, "18.73(1)"),            # at most 4 significant digits
    (3.747e5, 2.5e4, "3.75(25) times 10^(5)"),
    (-7.429e4, 5e3, "-7.43(50) times 10^(4)"),
    (1.2e-4, 3e-6, "1.200(30) times 10^(-4)"),
    (530.0, 25.0, "530(25)"),
    (0.14136, 320.0, '0.141 " (undetermined)"'),  # error above the value
    (2.5, float("nan"), '2.50 " (undetermined)"'),
    (2.0, 0.0, "2.000"),                     # fixed, not fitted
])
def test_constants_print_with_their_error_in_parentheses(value, error, expected):
    from pipeline.report.typst_math import value_with_error

    assert value_with_error(value, error) == expected


_LONG = ("(5*(303225.330264088 - 60134.4029057413*log10_T_mw_ss)*exp(-5*log10_Mgas200c/3) + "
         "0.951114534102155)*(56.2922628806796*c_gas - 0.560144726487855*log10_Mgas200c + "
         "2*log10_T_mw_ss/3 + 2)/(3*c_gas)")


def _typeset(tmp_path, body: str, record: dict) -> str:
    """The text of a small document that imports the report's section templates and lays out
    ``record`` (as ``d``) with ``body``."""
    import json
    import shutil

    import typst
    from pypdf import PdfReader

    from pipeline.inputs import INPUT_KINDS
    from pipeline.report.build import copy_templates

    copy_templates(tmp_path, INPUT_KINDS[record.get("input_kind", "particles")])
    shutil.copyfile(REPO / "pipeline" / "report" / "references.bib", tmp_path / "references.bib")
    (tmp_path / "d.json").write_text(json.dumps(record))
    (tmp_path / "doc.typ").write_text(
        '#import "sections.typ": *\n#set heading(numbering: "1.1")\n#let d = json("d.json")\n' + body
        + '\n= Methods <sec-methods>\n#bibliography("references.bib")\n')
    typst.compile(str(tmp_path / "doc.typ"), output=str(tmp_path / "doc.pdf"), root=str(tmp_path))
    return " ".join(" ".join(pg.extract_text().split()) for pg in PdfReader(tmp_path / "doc.pdf").pages)


def test_long_equations_break_into_lines_and_table_cells_stay_one_line_high(tmp_path):
    """The LH study's chosen equation printed as one line in a tiny font, and nested fractions
    in the Pareto table overlapped the next row: display equations break at top-level factors
    or terms, table cells write fractions with a slash; both typeset."""
    from pipeline.io.equations import parse_equation
    from pipeline.report.sections import display_body
    from pipeline.report.typst_math import _visible_length, typst_math_lines

    names = ["log10_T_mw_ss", "log10_Mgas200c", "c_gas"]
    expr = parse_equation(_LONG, names)
    lines = typst_math_lines(expr, "log_10 M_(200c) = 0.6 log_10 tilde(Y)_(200c)")
    assert len(lines) == 3 and lines[1].startswith("times") and lines[2].startswith("times")
    assert all(_visible_length(line) <= 70 for line in lines)
    short = typst_math_lines(parse_equation("0.4*c_gas + 17.2", names), "y = x")
    assert short == ['y = x + 0.4000 c_"gas" + 17.20']  # fits: one line
    inline = typst_math(expr, inline=True)
    assert "frac(" not in inline and inline.count("slash") == 3
    text = _typeset(tmp_path, "#display(d.body)\n#table(columns: (4cm,), m(d.inline))",
                    {"body": display_body(lines), "inline": inline})
    assert "56.29" in text and "56.3" in text and "*" not in text and "…" not in text


def test_stacks_report_text_has_no_particle_or_mock_wording(tmp_path):
    """A real-data stacks study described 'layout camels2024', 'at least 50 gas particles',
    'mock noise floor' and a mock seed; the configuration listing carried the mock section."""
    import yaml
    from astropy.table import Table

    from pipeline.config import validate_config
    from pipeline.report.build import compact_config
    from pipeline.report.sections import data_record

    config = Study.from_config(validate_config(yaml.safe_load(
        (REPO / "studies" / "camels1p_tng_to_simba.yaml").read_text())))
    halos = Table({"sample": ["TNG", "SIMBA"], "log10_M200c": [11.5, 12.0],
                   "redshift": [0.0, 0.0]})
    text = _typeset(tmp_path, "#data-section(d)\n#key-of((\"baseline\", \"discovered\", "
                    "\"blackbox\"))", data_record(config, halos))
    assert "stacked gas profiles" in text and "Moser" in text
    for phrase in ("particles", "layout", "mock", "floor", "orange"):
        assert phrase not in text, phrase
    assert "Grey: self-similar; red: discovered; black, open: black-box forest" in text
    listing = compact_config(config)
    assert "mock:" not in listing and "layout" not in listing and "stacks:" in listing


def test_every_column_symbol_typesets(tmp_path):
    """Each Typst symbol of the registry (and of the column families named by a study's
    parameters) compiles, and each LaTeX one renders in matplotlib's mathtext."""
    import matplotlib

    matplotlib.use("Agg")
    import typst
    from matplotlib.figure import Figure

    from pipeline.columns.symbols import LATEX_SYMBOLS, SYMBOLS, TYPST_SYMBOLS

    names = [*SYMBOLS, "overdensity_5mpc", "n_neighbours_1p5mpc", "log10_1p_N_sat_mstar8"]
    assert all(n in TYPST_SYMBOLS and n in LATEX_SYMBOLS for n in names)
    (tmp_path / "doc.typ").write_text("\n".join(f"${TYPST_SYMBOLS[n]}$" for n in names))
    typst.compile(str(tmp_path / "doc.typ"), output=str(tmp_path / "doc.pdf"))
    fig = Figure()
    for n in names:
        fig.text(0, 0, f"${LATEX_SYMBOLS[n]}$")
    fig.savefig(tmp_path / "symbols.png")
    assert "unknown_column" not in TYPST_SYMBOLS and LATEX_SYMBOLS.get("unknown_column") is None
