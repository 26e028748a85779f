"""The validated study as a typed record (:class:`Study`), built once by validation
(:func:`pipeline.study.validate_study`) and read by the command line, the report and the rule
files, instead of the nested mapping the study file is.

It holds what more than one stage reads, typed: the data source and its input kind, the samples,
the training and held-out sample names, the targets with their candidate features. A stage's own
options come as its typed record through :meth:`Study.options` (``study.options(SROptions)``):
the class says which section of the schema it reads, so this module needs no stage. The
validated mapping stays available (:attr:`Study.config`) for what takes a mapping: Snakemake's
``config``, the configuration hash, the report's listing of the configuration.

A shared module (above the configuration check, below the stages): it imports the input kinds
and the schema's defaults, never a stage.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np

from .inputs import InputKind, input_kind

__all__ = ["Study", "DataSource", "Sample", "Target"]

OptionsT = TypeVar("OptionsT")


@dataclass(frozen=True)
class Target:
    """A relation y = slope * x + b + f(features); the self-similar baseline has f = 0."""

    name: str
    y: str
    x: str
    slope: float
    #: the study lets halo-finder or truth quantities predict it (``allow_truth_features``)
    allow_truth_features: bool = False

    @classmethod
    def from_config(cls, entry: Mapping) -> Target:
        """The target of a study's ``targets`` entry (validated: a missing slope is 0)."""
        return cls(name=entry["name"], y=entry["y"], x=entry["x"],
                   slope=float(entry.get("slope", 0.0)),
                   allow_truth_features=bool(entry.get("allow_truth_features", False)))

    def residual(self, table, intercept: float = 0.0) -> np.ndarray:
        """y - slope * x - intercept: the deviation from the self-similar relation (``table``: an
        astropy Table or a mapping of columns)."""
        return (
            np.asarray(table[self.y], dtype=float)
            - self.slope * np.asarray(table[self.x], dtype=float)
            - intercept
        )


@dataclass(frozen=True)
class DataSource:
    """Where a study's files are (``data``): ``kind`` is the source (``mock``: written by the
    embedded mock; ``camels``, ``stacks``: on disk under ``root``)."""

    kind: str
    input: str
    root: str
    layout: str
    missing: str
    omega_b: float

    @property
    def input_kind(self) -> InputKind:
        """How the rows are read (:mod:`pipeline.inputs`)."""
        return input_kind({"kind": self.kind, "input": self.input})

    @property
    def is_mock(self) -> bool:
        """The embedded mock writes the files (its latent truth and noise floor exist)."""
        return self.kind == "mock"


@dataclass(frozen=True)
class Sample:
    """One sample of simulations: a suite's set, its simulations and snapshots, read from
    ``root`` (and, for stacks, its mass bins)."""

    name: str
    suite: str
    set: str
    volume: str
    sims: tuple[str, ...]
    snapshots: tuple[int, ...]
    root: str
    missing: str
    #: what the study uses it for: ``train``, ``holdout`` or ``unused``
    role: str
    mass_bins: tuple[str, ...] = ()


def _read_only(value: Any) -> Any:
    """A deep copy of ``value`` whose mappings cannot be changed (lists become tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _read_only(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_read_only(v) for v in value)
    return copy.deepcopy(value)


def _plain(value: Any) -> Any:
    """A read-only value back as plain dicts and lists (for YAML, JSON and Snakemake)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Study:
    """A validated study: its name, data source, samples, targets and every section's options."""

    name: str
    data: DataSource
    samples: Mapping[str, Sample]
    train: tuple[str, ...]
    holdout: tuple[str, ...]
    targets: tuple[Target, ...]
    #: target name -> its candidate features (its own list, else the study's)
    features: Mapping[str, tuple[str, ...]]
    #: one rule for every stage that measures gas: ``include`` or ``exclude``
    star_forming_gas: str
    #: the validated configuration, read-only (:meth:`as_dict` gives a plain copy)
    config: Mapping[str, Any]

    @classmethod
    def from_config(cls, config: Mapping) -> Study:
        """The record of a validated configuration (:func:`pipeline.config.validate_config`'s
        result, or the report job's copy of it)."""
        data = config["data"]
        train, holdout = tuple(config["train"]), tuple(config["holdout"])
        samples = {
            name: Sample(
                name=name, suite=s["suite"], set=s["set"], volume=s["volume"],
                sims=tuple(s["sims"]), snapshots=tuple(int(n) for n in s["snapshots"]),
                root=str(s.get("root", data["root"])), missing=s.get("missing", data["missing"]),
                role="train" if name in train else ("holdout" if name in holdout else "unused"),
                mass_bins=tuple(s.get("mass_bins", ())))
            for name, s in config["samples"].items()}
        return cls(
            name=config["study"],
            data=DataSource(kind=data["kind"], input=data["input"], root=str(data["root"]),
                            layout=data["layout"], missing=data["missing"],
                            omega_b=float(data["omega_b"])),
            samples=MappingProxyType(samples), train=train, holdout=holdout,
            targets=tuple(Target.from_config(t) for t in config["targets"]),
            features=MappingProxyType({
                t["name"]: tuple(t["features"] if "features" in t else config["features"])
                for t in config["targets"]}),
            star_forming_gas=config["star_forming_gas"],
            config=_read_only(config))

    @property
    def input_kind(self) -> InputKind:
        """How the study's rows are read (:mod:`pipeline.inputs`)."""
        return self.data.input_kind

    def target(self, name: str) -> Target:
        """The target called ``name`` (KeyError naming the study's targets)."""
        for target in self.targets:
            if target.name == name:
                return target
        raise KeyError(f"study {self.name!r} has no target {name!r}; its targets: "
                       f"{[t.name for t in self.targets]}")

    def snapshot_sources(self) -> list[tuple[str, str, str, str, int]]:
        """Every (suite, volume, set, simulation, snapshot) the study reads, each once (two
        samples may share one), in the samples' order: one ingest job each."""
        seen: dict[tuple[str, str, str, str, int], None] = {}
        for sample in self.samples.values():
            for sim in sample.sims:
                for snap in sample.snapshots:
                    seen[(sample.suite, sample.volume, sample.set, sim, snap)] = None
        return list(seen)

    def section(self, name: str) -> Mapping[str, Any]:
        """One section of the validated configuration (``sr``, ``evaluate``, ...), read-only."""
        return self.config[name]

    def options(self, cls: type[OptionsT]) -> OptionsT:
        """A stage's options as its typed record: ``cls`` is an option class decorated with
        :func:`pipeline.defaults.schema_defaults`, built from the section it names (with the
        keys it takes from elsewhere, e.g. ``star_forming_gas``)."""
        path, elsewhere = getattr(cls, "__schema_section__", (None, {}))
        if path is None:
            raise TypeError(f"{cls.__name__} is not a stage's option class (schema_defaults)")
        node: Any = self.config
        for key in path:
            node = node[key]
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        values = {k: _plain(v) for k, v in node.items() if k in names}
        for field, where in elsewhere.items():
            value: Any = self.config
            for key in where:
                value = value[key]
            values[field] = _plain(value)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The validated configuration as a plain, mutable copy (dicts and lists)."""
        return _plain(self.config)
