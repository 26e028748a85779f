"""The input kinds behind one interface (pipeline/inputs/): each registered kind has its rule
file and report template with the names the workflow and the report use, the study file selects
it, and nothing outside pipeline/inputs/ tests a kind's name."""

import re

import pytest
from conftest import REPO

from pipeline.config import known_columns, validate_config
from pipeline.errors import ConfigError
from pipeline.inputs import INPUT_KINDS, input_kind

RULES = REPO / "pipeline" / "rules"
TEMPLATES = REPO / "pipeline" / "report" / "templates"


@pytest.mark.parametrize("name", sorted(INPUT_KINDS))
def test_each_kind_has_its_rule_file_and_report_template(name):
    kind = INPUT_KINDS[name]
    rules = (RULES / kind.rule_file).read_text()
    for include in re.findall(r'^include: "([^"]+)"', rules, flags=re.M):
        rules += ((RULES / kind.rule_file).parent / include).read_text()
    # what ingest.smk's assemble rule asks of every kind, and one ingest rule of its own
    for function in ("halo_tables", "set_params_files"):
        assert re.search(rf"^def {function}\(", rules, flags=re.M), (kind.rule_file, function)
    assert re.search(r"^rule ingest\w*:", rules, flags=re.M), kind.rule_file
    template = (TEMPLATES / kind.report_template).read_text()
    for name_ in ("data-methods", "input-sentence", "selection-sentence", "ragged-unit"):
        assert re.search(rf"^#let {name_}\b", template, flags=re.M), (kind.report_template, name_)


@pytest.mark.parametrize(("data", "expected"), [
    ({"kind": "mock"}, "particles"), ({"kind": "camels", "input": "catalog"}, "catalog"),
    ({"kind": "stacks"}, "stacks"), ({"kind": "mock", "input": "particles"}, "particles"),
])
def test_the_data_section_selects_the_kind(data, expected):
    assert input_kind(data).name == expected


def test_a_kind_answers_what_the_configuration_check_asks(tmp_path):
    """Columns, a fixed star-forming-gas rule, per-sample keys, positions: each comes from the
    kind's record (a catalog study knows the catalog's columns; stacks fix the rule, take
    mass_bins and refuse environment columns, which need positions)."""
    assert "log10_Mtot" in known_columns({"data": {"kind": "mock", "input": "catalog"}})
    assert "log10_Mtot" not in known_columns({"data": {"kind": "mock"}})
    study = {
        "study": "s", "data": {"kind": "stacks", "root": str(tmp_path)},
        "samples": {"a": {"suite": "IllustrisTNG", "set": "1P", "sims": ["1P_p1_0"],
                          "snapshots": [33]},
                    "b": {"suite": "SIMBA", "set": "1P", "sims": ["1P_p1_0"], "snapshots": [33]}},
        "train": ["a"], "holdout": ["b"], "features": ["c_gas"], "rank": {"top_k": 1},
        "targets": [{"name": "t", "x": "log10_M200c", "y": "log10_Y200c_ss", "slope": "5/3"}],
    }
    config = validate_config(study)
    assert config["star_forming_gas"] == "include"
    assert config["samples"]["a"]["mass_bins"] == config["stacks"]["mass_bins"]
    with pytest.raises(ConfigError, match="star_forming_gas"):
        validate_config({**study, "star_forming_gas": "exclude"})
    with pytest.raises(ConfigError, match="halo positions, which input kind stacks"):
        validate_config({**study, "ingest": {"environment": {"features": ["overdensity"]}}})
    with pytest.raises(ConfigError, match="data.input"):
        validate_config({**study, "data": {**study["data"], "input": "catalog"}})


def test_nothing_outside_the_kinds_tests_a_kind_name():
    """A new kind is its module, rule file and template and one registration: the workflow,
    the configuration check and the report ask the kind's record (its fields), never compare
    a kind's name (``== "stacks"``, ``IS_CATALOG``)."""
    names = "|".join(INPUT_KINDS)
    test = re.compile(rf'[!=]= "({names})"|\bIS_(STACKS|CATALOG|PARTICLES)\b')
    found = []
    for path in sorted((REPO / "pipeline").rglob("*")):
        if path.suffix not in (".py", ".smk", ".typ") or "inputs" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if test.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_schema_offers_every_registered_kind():
    """``data.input`` names the kinds read from CAMELS-layout files (stacks are chosen by
    ``data.kind: stacks``): a registered kind the schema does not offer could never run."""
    from pipeline.defaults import config_schema

    data = config_schema()["properties"]["data"]["properties"]
    offered = set(data["input"]["enum"]) | ({"stacks"} & set(data["kind"]["enum"]))
    assert offered == set(INPUT_KINDS)
