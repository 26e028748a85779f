"""The validated study as a typed record (pipeline/study_record.py): built once by validation,
its samples, targets and features typed, each stage's options built from it as the stage's own
record, and the validated mapping kept read-only for what takes a mapping."""

import dataclasses
import json

import pytest
from conftest import REPO

from pipeline.config import read_yaml_file, validate_config
from pipeline.discovery.evaluate import EvaluateOptions
from pipeline.discovery.rank import RankOptions
from pipeline.discovery.sr.search import SROptions
from pipeline.ingest.catalog import CatalogOptions
from pipeline.ingest.particles import IngestOptions
from pipeline.ingest.stacks import StackOptions
from pipeline.mock.simulate import MockOptions
from pipeline.particles.shells import ProfileOptions
from pipeline.study import load_study, validate_study
from pipeline.study_record import Sample, Study, Target

OPTION_CLASSES = [RankOptions, SROptions, EvaluateOptions, IngestOptions, CatalogOptions,
                  StackOptions, MockOptions, ProfileOptions]


def test_the_default_study_as_a_record():
    study = load_study(REPO / "config.yaml")
    config = validate_config(read_yaml_file(REPO / "config.yaml"))
    assert isinstance(study, Study) and study.name == config["study"]
    assert study.data.is_mock and study.input_kind.name == "particles"
    assert list(study.samples) == list(config["samples"])
    first = next(iter(study.samples.values()))
    assert isinstance(first, Sample) and first.role == "train"
    assert first.sims == tuple(config["samples"][first.name]["sims"])
    assert study.train == tuple(config["train"]) and study.holdout == tuple(config["holdout"])
    assert study.targets == tuple(Target.from_config(t) for t in config["targets"])
    for t in config["targets"]:
        assert study.features[t["name"]] == tuple(t.get("features", config["features"]))
    # the mapping for Snakemake, the hash and the listing: the validated configuration itself
    assert study.as_dict() == config


def test_the_record_cannot_be_changed_in_place():
    study = load_study(REPO / "config.yaml")
    with pytest.raises(TypeError):
        study.config["sr"]["seeds"] = [7]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.name = "other"  # type: ignore[misc]
    copy = study.as_dict()
    copy["sr"]["seeds"].append(7)
    assert 7 not in study.section("sr")["seeds"]


@pytest.mark.parametrize("cls", OPTION_CLASSES, ids=lambda c: c.__name__)
def test_each_stage_builds_its_options_from_the_record(cls):
    """Every option class says which section it reads; the record builds it from that section
    with the study's values (a changed value arrives), the others at the schema's defaults."""
    raw = read_yaml_file(REPO / "config.yaml")
    study = validate_study(raw)
    options = study.options(cls)
    assert isinstance(options, cls)
    section, elsewhere = cls.__schema_section__
    node = study.as_dict()
    for key in section:
        node = node[key]
    for field in dataclasses.fields(cls):
        if field.name in node:
            value = getattr(options, field.name)
            expected = node[field.name]
            if dataclasses.is_dataclass(value):
                value = dataclasses.asdict(value)
            assert json.loads(json.dumps(value)) == expected, field.name


def test_a_changed_option_and_one_from_another_section_arrive():
    raw = read_yaml_file(REPO / "config.yaml")
    raw["rank"] = {**raw.get("rank", {}), "top_k": 2}
    raw["star_forming_gas"] = "include"
    study = validate_study(raw)
    assert study.options(RankOptions).top_k == 2
    assert study.options(IngestOptions).star_forming_gas == "include"  # a top-level key
    with pytest.raises(TypeError, match="not a stage's option class"):
        study.options(Sample)


def test_target_lookup_names_the_study_s_targets():
    study = load_study(REPO / "config.yaml")
    assert study.target(study.targets[0].name) is study.targets[0]
    with pytest.raises(KeyError, match="has no target 'nope'; its targets"):
        study.target("nope")


def test_snapshot_sources_name_each_snapshot_once():
    """Two samples reading the same snapshot give one ingest job."""
    raw = read_yaml_file(REPO / "config.yaml")
    study = validate_study(raw)
    sources = study.snapshot_sources()
    assert len(sources) == len(set(sources)) == sum(
        len(s.sims) * len(s.snapshots) for s in study.samples.values())
    first = next(iter(study.samples.values()))
    assert sources[0] == (first.suite, first.volume, first.set, first.sims[0], first.snapshots[0])
