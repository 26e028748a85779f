"""A study as the workflow and the command line take it: the configuration checked by the shared
rules (:mod:`pipeline.config`: schema, columns, samples) and by the stages' own (the mock's
suites), built once into its typed record (:class:`pipeline.study_record.Study`). On the top
floor with the command line and the rules: it may import stages; the shared modules below it may
not.
"""

from __future__ import annotations

from pathlib import Path

from .config import read_yaml_file, validate_config
from .errors import ConfigError
from .study_record import Study

__all__ = ["validate_study", "load_study"]


def _check_mock_suites(raw: dict, config: dict) -> None:
    """data.kind mock: every sample's suite is one the mock simulates; ConfigError naming the key
    ``samples.<name>.suite``."""
    if config["data"]["kind"] != "mock":
        return
    from .mock.suites import SUITE_MODELS

    for name, sample in config["samples"].items():
        if sample["suite"] not in SUITE_MODELS:
            key = f"samples.{name}.suite"
            raise ConfigError(f"config key '{key}': the mock has no suite {sample['suite']!r}; "
                              f"valid: {sorted(SUITE_MODELS)}")


def validate_study(raw: dict) -> Study:
    """``raw`` (a study as read from YAML) validated, with defaults filled, as its typed record
    (``.config``: the validated mapping); ConfigError naming the key path and what was
    expected."""
    config = validate_config(raw)
    _check_mock_suites(raw, config)
    return Study.from_config(config)


def load_study(path: str | Path) -> Study:
    """Read and validate the study file at ``path`` (YAML errors named with file, line, column)."""
    return validate_study(read_yaml_file(path))
