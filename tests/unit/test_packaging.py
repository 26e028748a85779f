"""Packaging: the conda environment of the rules lists the runtime dependencies of pyproject.toml
with the same lower bounds; one version; a licence and a citation file that parse."""

import re
import tomllib
from importlib import metadata

import yaml
from conftest import REPO

import pipeline

#: runtime dependencies a rule's environment does not need (the rules run the stage CLI; snakemake
#: runs outside them)
NOT_IN_RULE_ENV = {"snakemake"}


def _requirement(text: str) -> tuple[str, str]:
    """'numpy>=1.26  # why' -> ('numpy', '>=1.26')."""
    text = text.split("#")[0].strip()
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", text)
    assert m, text
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_conda_env_lists_the_runtime_dependencies_with_their_bounds():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = dict(_requirement(d) for d in project["dependencies"])
    env = yaml.safe_load((REPO / "pipeline" / "envs" / "pipeline.yaml").read_text())
    listed = {}
    for dep in env["dependencies"]:
        for item in dep["pip"] if isinstance(dep, dict) else [dep]:
            name, bound = _requirement(item)
            if name not in ("python", "pip"):
                listed[name] = bound
    expected = {k: v for k, v in runtime.items() if k not in NOT_IN_RULE_ENV}
    assert listed == expected


def test_one_version():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "pipeline.__version__"}
    assert metadata.version("scaling-relations-pipeline") == pipeline.__version__
    # the citation names the release it describes: kept equal to the package's by this test
    assert yaml.safe_load((REPO / "CITATION.cff").read_text())["version"] == pipeline.__version__


def test_licence_and_citation_files():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert {"message", "title", "authors"} <= set(cff)
    assert cff["preferred-citation"]["doi"] == "10.1073/pnas.2202074120"
    # the report cites the same paper
    assert "10.1073/pnas.2202074120" in (REPO / "pipeline/report/references.bib").read_text()


def test_tests_only_packages_are_not_runtime_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {_requirement(d)[0] for d in project["dependencies"]}
    assert not {"pypdf", "pandas", "pytest", "ruff", "mypy"} & runtime
