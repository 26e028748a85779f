"""Loading and validation of a study configuration against ``schemas/config.schema.yaml``."""

from __future__ import annotations

import copy
import logging
import os
from fractions import Fraction
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators

from .columns import (
    DERIVED_COLUMNS,
    HALO_COLUMNS,
    HI_COLUMNS,
    LOG_UNIFORM_PARAMETERS,
    computed_from,
    is_truth,
    leaked_inputs,
)
from .columns.environment import EnvironmentOptions, environment_columns
from .defaults import SCHEMA_PATH, config_schema, section_defaults
from .errors import ConfigError, InputFileError
from .inputs import input_kind
from .io.params import parameter_names
from .samples import expand_simulations, normalize_samples, refuse_shorthand

__all__ = [
    "SCHEMA_PATH", "load_config", "read_yaml_file", "validate_config", "expand_simulations",
    "known_columns", "simulation_parameters", "target_features",
]

log = logging.getLogger(__name__)


def _with_defaults(cls):
    """A validator class that also fills ``default:`` values (recursively)."""
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(cls, {"properties": set_defaults})


_Validator = _with_defaults(Draft202012Validator)


def known_columns(config: dict | None = None) -> set[str]:
    """Names of every per-halo column (ingest + assemble), with the environment columns that
    ``config``'s ``ingest.environment`` asks for."""
    if config is None:
        return {c.name for c in HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS}
    names = {c.name for c in input_kind(config.get("data", {})).columns(config)}
    env = config.get("ingest", {}).get("environment", {})
    names |= {c.name for c in environment_columns(EnvironmentOptions(**env))}
    return names | simulation_parameters(config)


def simulation_parameters(config: dict) -> set[str]:
    """The parameters the study's simulation tables carry beyond the standard six (each becomes a
    halo-table column at assemble, so it can be a feature): the headers of the files the input
    kind names (a CAMELS set's parameter file, a stacks root's ``simulations.csv``); none for the
    mock. Read where the files exist (a missing one is named by the workflow)."""
    data = config.get("data") or {}
    kind = input_kind(data)
    paths = {path for sample in (config.get("samples") or {}).values()
             for path in kind.parameter_files(data, sample)}
    names: set[str] = set()
    for fmt, path in sorted(paths):
        if not os.path.exists(path):
            continue
        if fmt == "csv":
            # imported here: the stacks reader brings astropy.units (0.2 s) into a Snakefile parse
            from .io.camels_stacks import simulation_table_parameters

            names |= set(simulation_table_parameters(path))
        else:
            names |= set(parameter_names(path))
    return names


def _renamed_keys(config: dict) -> None:
    """Former key names (before 0.1.0) are refused with the rewrite: ``data.kind: profiles`` ->
    ``stacks``, the ``profiles:`` section -> ``stacks:``, ``ingest.star_forming_gas_in_y`` ->
    ``star_forming_gas``."""
    data = config.get("data")
    if isinstance(data, dict) and data.get("kind") == "profiles":
        raise ConfigError("config key 'data.kind': 'profiles' is the former name of the "
                          "stacked-profile input kind: write 'data.kind: stacks'")
    if "profiles" in config:
        raise ConfigError("config key 'profiles' is the former name of the stacked-profile "
                          "options: rename the section 'stacks:'")
    ingest = config.get("ingest")
    if isinstance(ingest, dict) and "star_forming_gas_in_y" in ingest:
        rule = "include" if ingest["star_forming_gas_in_y"] else "exclude"
        raise ConfigError("config key 'ingest.star_forming_gas_in_y' is the former name of the "
                          f"star-forming-gas rule: remove it and write 'star_forming_gas: {rule}' at "
                          "the top level (one rule for every stage that measures gas)")


def _star_forming_gas_fixed_by_kind(config: dict) -> None:
    """An input kind whose files fix the star-forming-gas rule (the CAMELS stack files include
    that gas) sets it; asking for the other is an error."""
    data = config.get("data")
    if not isinstance(data, dict):
        return
    try:
        fixed = input_kind(data).fixed_star_forming_gas
    except ValueError:
        return  # an unknown data.input: the schema names it
    if fixed is None:
        return
    if config.get("star_forming_gas", fixed) != fixed:
        raise ConfigError(f"config key 'star_forming_gas': {config['star_forming_gas']!r} is not "
                          f"possible with data.kind: {data.get('kind')}; the input files "
                          f"{fixed} the star-forming gas (set {fixed!r} or leave the key out)")
    config["star_forming_gas"] = fixed


def _mock_redshifts(config: dict) -> dict[int, float]:
    """snapshot -> redshift of the mock (``mock.redshifts``, a mapping); every snapshot of every
    sample needs one."""
    table = {int(k): float(v) for k, v in config["mock"]["redshifts"].items()}
    needed = sorted({int(s) for sample in config["samples"].values() for s in sample["snapshots"]})
    missing = [s for s in needed if s not in table]
    if missing:
        raise ConfigError(f"config key 'mock.redshifts': no redshift for snapshot(s) {missing} "
                          "used by the samples")
    return {s: table[s] for s in needed}


def _slope_value(value, key: str) -> float:
    """A target's slope as a float: a number, or an exact fraction given as a string ("5/3")."""
    if isinstance(value, str):
        num, den = (Fraction(part.strip()) for part in value.split("/"))
        if den == 0:
            raise ConfigError(f"config key '{key}': {value!r} divides by zero")
        return float(num / den)
    return float(value)


def _path(error) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate_config(config: dict) -> dict:
    """Validate ``config`` (a dict as read from YAML) and return it with defaults filled.

    Raises ConfigError naming the key path and what was expected.
    """
    config = copy.deepcopy(config)
    _renamed_keys(config)
    _star_forming_gas_fixed_by_kind(config)
    refuse_shorthand(config)
    by_redshift = _samples_by_redshift(config)
    errors = sorted(_Validator(config_schema()).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  config key '{_path(e)}': {e.message}" for e in errors]
        raise ConfigError("invalid study configuration:\n" + "\n".join(lines))

    data = config["data"]

    def expand_sims(sample: dict, entries: list[str], where: str) -> list[str]:
        if any(ch in e for e in entries for ch in "*?["):
            if data["kind"] != "camels":
                raise ConfigError(f"config key '{where}': glob patterns need data.kind: camels "
                                  "(they are matched against existing simulation directories)")
            from .io.layout import expand_simulation_globs

            try:
                entries = expand_simulation_globs(
                    {**data, "root": sample["root"], "set": sample["set"],
                     "volume": sample["volume"]}, sample["suite"],
                    entries)
            except ValueError as exc:
                raise ConfigError(f"config key '{where}': {exc}") from None
        try:
            return expand_simulations(entries)
        except ConfigError as exc:
            raise ConfigError(f"config key '{where}': {exc}") from None

    for name in by_redshift:  # the snapshots the redshifts name (before expanding and checks)
        config["samples"][name]["snapshots"] = _snapshots_of_redshifts(config, name)
    kind = input_kind(data)
    normalize_samples(config, expand_sims, kind.sample_keys, one_root_per_set=bool(kind.layout_files))
    if data["input"] != section_defaults("data")["input"] and data["input"] != kind.name:
        raise ConfigError(f"config key 'data.input': {data['input']} is not read from "
                          f"data.kind: {data['kind']} (its rows are each a {kind.row}; use "
                          "data.kind mock or camels)")
    if config["ingest"]["environment"]["features"] and not kind.has_positions:
        raise ConfigError("config key 'ingest.environment.features': environment columns need "
                          f"halo positions, which input kind {kind.name} does not have")
    columns = known_columns(config)
    own_less = [t["name"] for t in config["targets"] if "features" not in t]
    if own_less and "features" not in config:
        raise ConfigError(f"config key 'features' is missing: target(s) {own_less} list no features "
                          "of their own (give 'features' for the study or 'features' per target)")
    feature_lists = ([("features", config["features"])] if "features" in config else []) + [
        (f"targets.{i}.features", t["features"]) for i, t in enumerate(config["targets"])
        if "features" in t
    ]
    for key, features in feature_lists:
        bad = [f for f in features if f not in columns]
        if bad:
            raise ConfigError(f"config key '{key}': unknown column(s) {bad}; valid: {sorted(columns)}")
    names = [t["name"] for t in config["targets"]]
    if len(set(names)) != len(names):
        raise ConfigError(f"config key 'targets': duplicate target names {names}")
    if config["evaluate"]["bin_column"] not in columns:
        raise ConfigError(f"config key 'evaluate.bin_column': unknown column "
                          f"{config['evaluate']['bin_column']!r}; valid: {sorted(columns)}")
    for i, t in enumerate(config["targets"]):
        _check_target(config, i, t, columns)
    sel = config["selection"]
    if sel["log10_mass_max_msun"] <= sel["log10_mass_min_msun"]:
        raise ConfigError(
            f"config key 'selection.log10_mass_max_msun' = {sel['log10_mass_max_msun']} must exceed "
            f"'selection.log10_mass_min_msun' = {sel['log10_mass_min_msun']}: no halo could be selected")
    edges = config["evaluate"]["mass_bins"]
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ConfigError(f"config key 'evaluate.mass_bins' must increase strictly, got {edges}")
    if data["kind"] == "mock":
        config["mock"]["redshifts"] = _mock_redshifts(config)
        _check_mock_ranges(config["mock"])
    return config


def _check_mock_ranges(mock: dict) -> None:
    """ConfigError, before any job runs, for mock parameter ranges no simulation can be drawn
    from: a range that runs backwards, a log-uniform (feedback) range reaching 0 or below,
    sigma_8 not positive, Omega_m outside (Omega_b, 1) (a flat cosmology with its baryons; the
    halo mass function is undefined beyond)."""
    omega_b = mock["omega_b"]
    for name, (lo, hi) in mock["parameter_ranges"].items():
        key = f"config key 'mock.parameter_ranges.{name}'"
        if hi < lo:
            raise ConfigError(f"{key}: the range [{lo:g}, {hi:g}] runs backwards; write "
                              f"[{hi:g}, {lo:g}]")
        if name in LOG_UNIFORM_PARAMETERS and lo <= 0:
            raise ConfigError(f"{key}: [{lo:g}, {hi:g}] is drawn log-uniformly: both ends must "
                              "be positive (the fiducial amplitude is 1)")
        if name == "sigma_8" and lo <= 0:
            raise ConfigError(f"{key}: sigma_8 must be positive, got [{lo:g}, {hi:g}]")
        if name == "Omega_m" and not (omega_b < lo and hi < 1):
            raise ConfigError(f"{key}: Omega_m must lie between mock.omega_b = {omega_b:g} (the "
                              f"baryons are part of the matter) and 1 (a flat cosmology with "
                              f"dark energy), got [{lo:g}, {hi:g}]")


def _samples_by_redshift(raw: dict) -> list[str]:
    """The samples that name redshifts instead of snapshots; ConfigError for one that gives
    both."""
    samples: dict = raw["samples"] if isinstance(raw.get("samples"), dict) else {}
    out = []
    for name, sample in samples.items():
        if isinstance(sample, dict) and "redshifts" in sample:
            if "snapshots" in sample:
                raise ConfigError(f"config key 'samples.{name}': give snapshots or redshifts, not "
                                  "both")
            out.append(name)
    return out


def _snapshot_table(config: dict, sample: dict, where: str) -> dict[int, float]:
    """Snapshot number -> redshift of the numbering ``sample`` is read in (see the schema's
    samples.<name>.redshifts)."""
    data = config["data"]
    if data["kind"] == "mock":  # the mock writes the snapshots its study file numbers
        return {int(k): float(v) for k, v in config["mock"]["redshifts"].items()}
    try:
        return input_kind(data).snapshot_redshifts(data, sample)
    except (InputFileError, ValueError) as exc:
        raise ConfigError(f"config key '{where}': {exc}") from None


def _snapshots_of_redshifts(config: dict, name: str) -> list[int]:
    """The snapshots nearest a sample's redshifts (ConfigError naming both where none is
    within the tolerance)."""
    from .io.camels_facts import nearest_snapshot

    sample = config["samples"][name]
    where = f"samples.{name}.redshifts"
    table = _snapshot_table(config, sample, where)
    return sorted({nearest_snapshot(float(z), table, where) for z in sample["redshifts"]})


def _check_target(config: dict, i: int, t: dict, columns) -> None:
    """One target's checks (``targets.<i>``), its slope read as a number: y and x known columns,
    y not among its features, no leakage (:func:`_refuse_leakage`), HI columns measured, enough
    features for rank.top_k."""
    for key in ("y", "x"):
        if t[key] not in columns:
            raise ConfigError(
                f"config key 'targets.{i}.{key}': unknown column {t[key]!r}; "
                f"valid: {sorted(columns)}"
            )
    t.setdefault("slope", 0.0)
    t["slope"] = _slope_value(t["slope"], f"targets.{i}.slope")
    if t["slope"] == 0 and "keep_slope" not in t:
        t["keep_slope"] = False  # no self-similar slope to keep: x is a free feature
    features = target_features(config, t)
    if t["y"] in features:
        raise ConfigError(
            f"config key 'targets.{i}': the predicted column {t['y']!r} is also a feature"
        )
    _refuse_leakage(config, i, t, features)
    _hi_needs_ingest(config, i, t, features)
    if config["rank"]["top_k"] > len(features):
        raise ConfigError(
            f"config key 'rank.top_k' = {config['rank']['top_k']} exceeds the number of "
            f"features of target {t['name']!r} ({len(features)})"
        )


def registry_columns(config: dict) -> list:
    """Every registry column a study can use (halo, derived, catalog rows, environment), for
    following what a column is computed from."""
    cols = list(input_kind(config.get("data", {})).columns(config))
    env = config.get("ingest", {}).get("environment", {})
    if env.get("features"):
        cols += environment_columns(EnvironmentOptions(**env))
    return cols


def _hi_needs_ingest(config: dict, index: int, target: dict, features: list[str]) -> None:
    """ConfigError when a target uses an HI column that the study's ingest does not measure."""
    used = {c.name for c in HI_COLUMNS} & {target["x"], target["y"], *features}
    if not used:
        return
    kind = input_kind(config["data"])
    if not kind.reads_particles:
        raise ConfigError(f"config key 'targets.{index}': {sorted(used)} are measured from gas "
                          f"particles; input kind {kind.name!r} reads none")
    if not config["ingest"]["hi"]["enabled"]:
        raise ConfigError(f"config key 'targets.{index}' uses {sorted(used)}: set "
                          "'ingest.hi.enabled: true' (reads NeutralHydrogenAbundance, and the "
                          "hydrogen fraction and density the HI rule needs)")


def _refuse_leakage(config: dict, index: int, target: dict, features: list[str]) -> None:
    """ConfigError naming the column and the target when the relation's x or a feature carries
    what the target predicts:

    * computed from the same measured column (f_gas200c = Mgas200c / M200c as a feature of M given
      Y; ``x: log10_Mgas200c_over_fb`` for ``y: log10_Mgas200c``; x = y);
    * a truth quantity (:func:`pipeline.columns.is_truth`: M500c, R200c, Vmax, c_NFW, ...) for a
      target that is one too (the true M500c predicts M200c to 0.02 dex), unless the target says
      ``allow_truth_features: true`` (subhalo mass from Vmax), which the report records.
    """
    registry = registry_columns(config)
    by_name = {c.name: c for c in registry}
    features_key = f"targets.{index}.features" if "features" in target else "features"
    y = target["y"]
    candidates = [(f"targets.{index}.x", "x", target["x"])] + [
        (features_key, "feature", f) for f in features]
    for key, role, column in candidates:
        shared = leaked_inputs(column, y, registry) | ({y} if column == y else set())
        if shared:
            inputs = ", ".join(by_name[column].inputs) if column in by_name else ""
            raise ConfigError(
                f"config key '{key}': {role} {column!r} of target {target['name']!r} is computed "
                f"from {sorted(shared)}, which the target predicts (y: {y}); "
                f"{column} ({by_name[column].definition if column in by_name else column}"
                f"{'; inputs: ' + inputs if inputs else ''}) would hand the answer to the relation. "
                "Leave it out, or use a column not computed from the predicted quantity "
                "(docs/columns.md, column 'computed from')")
    if target.get("allow_truth_features") or not is_truth(y, registry):
        return
    for key, role, column in candidates:
        if is_truth(column, registry):
            truths = sorted(c for c in computed_from(column, registry)
                            if c in by_name and by_name[c].truth)
            raise ConfigError(
                f"config key '{key}': {role} {column!r} of target {target['name']!r} is a "
                f"halo-finder or truth quantity (computed from {truths}), and so is the target "
                f"(y: {y}): another mass or radius of the same halo predicts it almost exactly "
                "and no observer measures it. Use observables (docs/columns.md, column 'kind'), "
                f"or set 'targets.{index}.allow_truth_features: true' where that is the question "
                "(e.g. a subhalo's mass from its Vmax); the report then says so")


def target_features(config: dict, target: dict) -> list[str]:
    """Candidate features of ``target``: its own list, else the study's."""
    return list(target["features"] if "features" in target else config["features"])


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping key given twice (PyYAML keeps the last silently)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key defined twice in one mapping: a study that defines a
    sample twice, or ``sr:`` twice, would otherwise run with whichever came last."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    continue
                if key in seen:
                    raise _DuplicateKey(
                        None, None,
                        f"key {key!r} is defined twice in one mapping (lines "
                        f"{seen[key].line + 1} and {key_node.start_mark.line + 1}); the second "
                        "would silently replace the first: keep one", key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def read_yaml_file(path: str | Path) -> dict:
    """The mapping in the YAML file at ``path``; ConfigError naming the file, and the line and
    column of a syntax error or of a key defined twice, otherwise."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config file {path} is a directory; expected a study's YAML file")
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except _DuplicateKey as exc:
        raise ConfigError(f"config file {path}, line {exc.problem_mark.line + 1}: "
                          f"{exc.problem}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        raise ConfigError(f"config file {path}{where}: not valid YAML ({what})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not a text file") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping, got {type(raw).__name__}")
    return raw


def load_config(path: str | Path) -> dict:
    """Read and validate the YAML study configuration at ``path``."""
    return validate_config(read_yaml_file(path))
