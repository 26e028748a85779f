"""Imports run one way: every module of ``pipeline`` imports only from the floors below its own
(or from inside its own package), so the shared modules never depend on a stage, the stages
depend on each other in pipeline order only, and real-data code never reads the mock.

The floors, lowest first (docs: the package docstring of :mod:`pipeline`):

0. ``pipeline`` (the version), ``errors``, ``provenance``
1. ``io`` (file formats), ``physics`` (formulas), ``samples``, ``defaults`` (the schema's defaults)
2. ``columns`` (the column registry), ``particles`` (compiled kernels, the one particle scan),
   then ``inputs`` (the input kinds: what each lists, reads and says)
3. ``config``, then ``study_record`` (the validated study as a typed record)
4. the stages, in pipeline order: ``ingest`` < ``radial_profiles`` < ``discovery`` < ``report``;
   ``mock`` beside them (no stage imports it)
5. ``study`` (the configuration with the stages' own checks), then ``jobs`` (one command per
   rule), then ``cli`` (a user's commands) and ``rules`` (the rule
   files and the settings of the process that parses them): they may import anything below
"""

import ast
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "pipeline"

FLOOR = {
    "pipeline": 0, "errors": 0, "provenance": 0,
    "io": 1, "physics": 1, "samples": 1, "defaults": 1,
    "columns": 2, "particles": 2, "inputs": 2.5,
    "config": 3, "study_record": 3.5,
    "mock": 4.0, "ingest": 4.1, "radial_profiles": 4.2, "discovery": 4.3, "report": 4.4,
    "study": 5, "jobs": 5.05, "cli": 5.1, "rules": 5.1,
}
STAGES = {"mock", "ingest", "radial_profiles", "discovery", "report"}


def _unit(module: str) -> str:
    """The floor unit of a dotted module name: ``pipeline.io.gadget`` -> ``io``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pipeline"


def _imports(path: Path, text: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) of every ``pipeline`` import in ``path`` (or in ``text``, read as
    if it were that file), lazy ones included."""
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    out = []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] if node.module else [
                    f"{target}.{a.name}" if _is_module(f"{target}.{a.name}") else target
                    for a in node.names]
            else:
                names = [node.module or ""]
            out += [(node.lineno, n) for n in names if n.split(".")[0] == "pipeline"]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "pipeline"]
    return out


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(p for p in parts if p != "__init__")


def _violations(extra: dict[Path, str] | None = None) -> list[str]:
    """Every import against the floors; ``extra``: files that are not on disk (path -> source),
    checked as if they were."""
    bad = []
    sources = {path: None for path in sorted(PACKAGE.rglob("*.py"))} | dict(extra or {})
    for path, text in sources.items():
        mine = _unit(_module(path))
        for line, target in _imports(path, text):
            theirs = _unit(target)
            if theirs == mine:
                continue
            if theirs not in FLOOR:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {target}: unknown unit {theirs!r}")
            elif theirs == "mock" and mine not in ("study", "jobs", "cli"):
                bad.append(f"{path.relative_to(REPO)}:{line} imports {target}: only the command "
                           "line reads the mock")
            elif FLOOR[theirs] >= FLOOR[mine]:
                bad.append(f"{path.relative_to(REPO)}:{line} ({mine}, floor {FLOOR[mine]}) imports "
                           f"{target} ({theirs}, floor {FLOOR[theirs]}): upward or sideways")
    return bad


def test_every_unit_has_a_floor():
    units = {p.name if p.is_dir() else p.stem for p in PACKAGE.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    units = {"pipeline" if u == "__init__" else u for u in units}
    assert units == set(FLOOR), f"new package or module without a floor: {units ^ set(FLOOR)}"


def test_imports_run_one_way():
    assert _violations() == []


def test_rule_files_import_only_what_the_top_floor_may():
    """The rule files are on the top floor, and the Snakefile with them: no constraint but that
    the names they import exist (checked by the workflow tests); here, that they read the
    study through :mod:`pipeline.study`, not the shared check alone."""
    text = (PACKAGE / "rules" / "common.smk").read_text()
    assert "validate_study(" in text and "validate_config(" not in text


@pytest.mark.parametrize("source, message", [
    ("from ..ingest import particles\n", "upward or sideways"),   # a shared module reading a stage
    ("from ..mock.suites import SUITE_MODELS\n", "only the command line reads the mock"),
])
def test_the_contract_catches_an_upward_import(source, message):
    # a module of io that is never written: tests leave the package as they found it
    probe = PACKAGE / "io" / "_contract_probe.py"
    found = [v for v in _violations({probe: source}) if "_contract_probe" in v]
    assert len(found) == 1 and message in found[0] and not probe.exists()


#: libraries a per-snapshot job (mock_sim, ingest: thousands of processes in a CAMELS LH study)
#: must not load when it starts: each costs 0.3-1.5 s of import in every job (bench/ingest.py,
#: the default study's timeline in docs/benchmarks.md)
HEAVY_FOR_SNAPSHOT_JOBS = ("astropy.cosmology", "scipy.interpolate", "scipy.integrate",
                           "scipy.stats", "scipy.spatial", "sklearn", "sympy", "matplotlib",
                           "pyoperon")
#: the report's job sits on the study's serial chain: no compiled kernels, no learning library
HEAVY_FOR_REPORT = ("numba", "sklearn", "pyoperon", "scipy.spatial")


@pytest.mark.parametrize(("module", "heavy"), [
    ("pipeline.ingest.particles", HEAVY_FOR_SNAPSHOT_JOBS),
    ("pipeline.mock.simulate", HEAVY_FOR_SNAPSHOT_JOBS),
    ("pipeline.ingest.catalog", HEAVY_FOR_SNAPSHOT_JOBS),
    ("pipeline.report.build", HEAVY_FOR_REPORT),
    ("pipeline.report.profiles_figure", HEAVY_FOR_REPORT),
])
def test_jobs_import_no_heavy_library(module, heavy):
    import subprocess
    import sys

    code = f"import sys, {module}; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         check=True).stdout.strip()
    assert out == "[]", f"{module} imports {out} at start-up"
