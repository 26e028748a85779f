"""Samples: the named sets of simulations a study trains on and holds out.

A sample is a suite with its own simulation set, volume, simulations and snapshots (and, for
stacked-profile input, mass bins): "IllustrisTNG 1P at z > 0.1" and "IllustrisTNG LH at z = 0"
are two samples of one suite. Relations are fitted on the ``train`` samples and evaluated on the
``holdout`` ones; every halo table carries a ``sample`` column beside ``suite`` and ``sim``.

Samples are declared one way, ``samples`` with ``train`` and ``holdout``. The former shorthand of
one sample per suite (``data.suites`` with ``train_suites`` and ``holdout_suites``) is refused
with the rewrite that gives the same tables (:func:`shorthand_rewrite`).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping

import yaml

from .errors import ConfigError

__all__ = ["expand_simulations", "expand_snapshots", "normalize_samples", "refuse_shorthand",
           "shorthand_rewrite",
           "train_holdout_overlap", "train_train_overlap", "compact_ranges", "compact_names",
           "compact_samples", "SHORTHAND_KEYS"]

SHORTHAND_KEYS = ("suites", "set", "volume", "snapshots")
#: a range of numbered names: ``LH_0..LH_7``, ``LH_0..7``, ``24..33`` (prefix, first, last)
_RANGE = re.compile(r"^(?P<prefix>.*?)(?P<start>\d+)\.\.(?P=prefix)?(?P<stop>\d+)$")


def _expand(entries: Iterable, what: str) -> list[tuple[str, int] | str]:
    """Entries with every range ``<prefix><a>..[<prefix>]<b>`` replaced by ``(prefix, i)`` for
    i = a..b (the one parser of ranges, read back from :func:`compact_ranges`); ConfigError on a
    backwards range or an entry given twice."""
    out: list = []
    for entry in entries:
        m = _RANGE.match(str(entry))
        if m:
            start, stop = int(m["start"]), int(m["stop"])
            if stop < start:
                raise ConfigError(f"{what} range {entry!r} runs backwards")
            out.extend((m["prefix"], i) for i in range(start, stop + 1))
        else:
            out.append(entry)
    return out


def _twice(values: list) -> list:
    seen, twice = set(), []
    for v in values:
        if v in seen and v not in twice:
            twice.append(v)
        seen.add(v)
    return sorted(twice, key=str)


def expand_simulations(entries: list[str]) -> list[str]:
    """Expand ranges such as ``LH_0..LH_7`` (or ``LH_0..7``) into simulation names."""
    out = [f"{e[0]}{e[1]}" if isinstance(e, tuple) else e for e in _expand(entries, "simulation")]
    twice = _twice(out)
    if twice:
        raise ConfigError(f"simulation list {entries} names {twice} twice (after expanding "
                          "ranges): every halo would be counted twice")
    return out


def expand_snapshots(entries: Iterable[int | str], key: str) -> list[int]:
    """Snapshot numbers with ranges ``'24..33'`` expanded; ConfigError naming ``key`` on a
    backwards range or a snapshot given twice."""
    try:
        expanded = _expand(entries, "snapshot")
    except ConfigError as exc:
        raise ConfigError(f"config key '{key}': {exc}") from None
    out = []
    for e in expanded:
        if isinstance(e, tuple) and e[0]:
            raise ConfigError(f"config key '{key}': snapshot range with a prefix {e[0]!r}")
        out.append(e[1] if isinstance(e, tuple) else int(e))
    twice = _twice(out)
    if twice:
        raise ConfigError(f"config key '{key}': snapshot(s) {twice} given twice (after expanding "
                          "ranges): every halo would be counted twice")
    return out


def shorthand_rewrite(raw: dict) -> str:
    """The ``samples``/``train``/``holdout`` (and ``mock.redshifts``) YAML that replaces the former
    one-sample-per-suite shorthand (``data.suites``, ``data.set``, ``data.volume``,
    ``data.snapshots``, ``train_suites``, ``holdout_suites``) of ``raw``: one sample per suite,
    named after it, with the same tables."""
    data: dict = raw["data"] if isinstance(raw.get("data"), dict) else {}
    snapshots = data.get("snapshots", [90])
    samples = {}
    for suite, sims in (data.get("suites") or {}).items():
        entry = {"suite": suite, "sims": sims}
        for key, default in (("set", "LH"), ("volume", "L25n256")):
            if data.get(key, default) != default:
                entry[key] = data[key]
        if snapshots != [90]:
            entry["snapshots"] = snapshots
        samples[suite] = entry
    out = {"samples": samples, "train": raw.get("train_suites", []),
           "holdout": raw.get("holdout_suites", [])}
    redshifts = (raw.get("mock") or {}).get("redshifts")
    if isinstance(redshifts, list):
        try:
            snaps = expand_snapshots(snapshots, "data.snapshots")
        except ConfigError:
            snaps = []
        if len(snaps) == len(redshifts):
            out["mock"] = {"redshifts": dict(zip(snaps, redshifts, strict=True))}
    return yaml.safe_dump(out, sort_keys=False, default_flow_style=None, width=100)


def refuse_shorthand(raw: dict) -> None:
    """ConfigError showing the rewrite if ``raw`` declares its samples with the former shorthand
    (one way to declare samples: ``samples`` with ``train`` and ``holdout``)."""
    data: dict = raw["data"] if isinstance(raw.get("data"), dict) else {}
    used = [f"data.{k}" for k in SHORTHAND_KEYS if k in data]
    used += [k for k in ("train_suites", "holdout_suites") if k in raw]
    if isinstance((raw.get("mock") or {}).get("redshifts"), list):
        used.append("mock.redshifts (a list)")
    if not used:
        return
    if "suites" in data or "train_suites" in raw or "holdout_suites" in raw:
        raise ConfigError(
            f"config keys {used}: the one-sample-per-suite shorthand is no longer read; declare "
            "the samples (one sample per suite, named after it, gives the same tables). Remove "
            "those keys and write:\n" + shorthand_rewrite(raw).rstrip())
    raise ConfigError(f"config keys {used}: give each sample its own set, volume and snapshots "
                      "(samples.<name>.set, .volume, .snapshots) and mock.redshifts as a mapping "
                      "snapshot: redshift")


def normalize_samples(config: dict, expand_sims, sample_keys: Mapping[str, tuple[str, str]],
                      one_root_per_set: bool) -> None:
    """Give ``config`` (schema-validated, defaults filled) the one form the pipeline uses, in
    place: ``samples`` (name -> suite, set, volume, sims, snapshots[, mass_bins]; simulations and
    snapshots expanded), ``train`` and ``holdout``.

    ``expand_sims(sample, entries, key) -> list[str]`` expands simulation entries (ranges, globs)
    and raises ConfigError naming ``key``. The input kind says the rest
    (:class:`pipeline.inputs.InputKind`): ``sample_keys``, the per-sample keys only it reads ->
    the (section, key) of their study-wide default (any other kind refuses them);
    ``one_root_per_set``, whether its tables are named by (suite, volume, set, simulation), so
    that one set is read from one root."""
    data = config["data"]
    units_have_bins = "mass_bins" in sample_keys
    for name, sample in config["samples"].items():
        where = f"samples.{name}"
        if "root" in sample and data["kind"] == "mock" and sample["root"] != data["root"]:
            raise ConfigError(f"config key '{where}.root': the mock writes every sample under "
                              f"data.root ({data['root']}); a sample root is for data on disk "
                              "(data.kind camels or stacks)")
        sample.setdefault("root", data["root"])
        sample.setdefault("missing", data["missing"])
        sample["sims"] = expand_sims(sample, sample["sims"], f"{where}.sims")
        sample["snapshots"] = expand_snapshots(sample["snapshots"], f"{where}.snapshots")
        for key, (section, default) in sample_keys.items():
            sample.setdefault(key, copy.deepcopy(config[section][default]))
        if "mass_bins" in sample and "mass_bins" not in sample_keys:
            raise ConfigError(f"config key '{where}.mass_bins' is for data.kind: stacks only "
                              "(particle data are binned by evaluate.mass_bins)")
    for key in ("train", "holdout"):
        unknown = [s for s in config[key] if s not in config["samples"]]
        if unknown:
            raise ConfigError(f"config key '{key}': {unknown} not in samples "
                              f"{sorted(config['samples'])}")
    both = set(config["train"]) & set(config["holdout"])
    if both:
        raise ConfigError(f"config keys 'train' and 'holdout' share {sorted(both)}: a held-out "
                          "sample must not be used for training")
    shared = train_holdout_overlap(config)
    if shared:
        roots = sorted({os.path.realpath(config["samples"][s]["root"])
                        for s in [*config["train"], *config["holdout"]]})
        raise ConfigError(
            f"config keys 'train' and 'holdout': {len(shared)} (suite, set, simulation, snapshot) "
            f"are in both a training and a held-out sample, e.g. {shared[:3]} (roots, resolved: "
            f"{', '.join(roots)}): held-out haloes must be unseen, whichever folder or link they "
            "are read from (change the samples' sims or snapshots)")
    if one_root_per_set:
        _one_root_per_set(config)
    for first, second, units in train_train_overlap(config):
        raise ConfigError(
            f"config key 'train': training samples {first!r} and {second!r} share {len(units)} "
            f"(suite, set, simulation, snapshot{', mass bin' if units_have_bins else ''}), e.g. "
            f"{units[:3]}: their haloes would be in the training set twice, weighing that "
            "simulation double (give each simulation to one training sample)")


def _one_root_per_set(config: dict) -> None:
    """Tables named by (suite, volume, set, simulation): one set is read from one root. (Stacks
    are measured per root, so two roots may hold a suite.)"""
    roots: dict[tuple, tuple[str, str]] = {}
    for name, sample in config["samples"].items():
        key = (sample["suite"], sample["volume"], sample["set"])
        first = roots.setdefault(key, (name, sample["root"]))
        if os.path.realpath(first[1]) != os.path.realpath(sample["root"]):
            raise ConfigError(
                f"config key 'samples.{name}.root': samples {first[0]!r} and {name!r} read suite "
                f"{key[0]}, volume {key[1]}, set {key[2]} from two roots ({first[1]} and "
                f"{sample['root']}); one set has one root (give the samples other sets)")


def _units(sample: dict) -> set[tuple]:
    """(suite, set, simulation, snapshot, mass bin or None) of every unit a sample reads. The root
    is not part of a unit: a simulation is the same simulation whichever folder (a copy, a
    symbolic link) it is read from."""
    bins = sample.get("mass_bins") or [None]
    return {(sample["suite"], sample["set"], sim, snap, b)
            for sim in sample["sims"] for snap in sample["snapshots"] for b in bins}


def _shown(unit: tuple) -> tuple:
    """A unit as messages show it: (suite, set, simulation, snapshot[, mass bin])."""
    return unit[:4] if unit[4] is None else unit


def train_holdout_overlap(config: dict) -> list[tuple]:
    """(suite, set, sim, snapshot[, mass bin]) found in a training and a held-out sample."""
    train = set().union(*(_units(config["samples"][s]) for s in config["train"]))
    held = set().union(*(_units(config["samples"][s]) for s in config["holdout"]))
    return sorted((_shown(u) for u in train & held), key=str)


def train_train_overlap(config: dict) -> list[tuple[str, str, list[tuple]]]:
    """(sample, sample, shared units) for every pair of training samples that read the same
    (suite, set, sim, snapshot[, mass bin])."""
    names = list(config["train"])
    units = {name: _units(config["samples"][name]) for name in names}
    out = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            shared = units[first] & units[second]
            if shared:
                out.append((first, second, sorted((_shown(u) for u in shared), key=str)))
    return out


def compact_ranges(names: Iterable[str]) -> list[str]:
    """Simulation names with every run of consecutive numbers as one range entry (``LH_0..LH_999``),
    order kept: the lossless short form that :func:`expand_simulations` reads back.
    Job options carry this form, so a job of a 1000-simulation study does not print 1000 names."""
    pieces: list[str] = []
    run: list[tuple[str, int]] = []

    def flush():
        if run:
            prefix, first = run[0]
            last = run[-1][1]
            pieces.append(f"{prefix}{first}" if first == last else f"{prefix}{first}..{prefix}{last}")
            run.clear()

    for name in names:
        m = re.fullmatch(r"(.*?)(\d+)", name)
        if m and run and m.group(1) == run[-1][0] and int(m.group(2)) == run[-1][1] + 1 \
                and not m.group(2).startswith("0"):
            run.append((m.group(1), int(m.group(2))))
            continue
        flush()
        if m and not (m.group(2).startswith("0") and len(m.group(2)) > 1):
            run.append((m.group(1), int(m.group(2))))
        else:
            pieces.append(name)
    flush()
    return pieces


def compact_names(names: Iterable[str], max_pieces: int = 12) -> str:
    """:func:`compact_ranges` as one line for people: at most ``max_pieces`` pieces, then a count."""
    names = list(names)
    pieces = compact_ranges(names)
    if len(pieces) > max_pieces:
        return (", ".join(pieces[:max_pieces])
                + f", ... ({len(pieces) - max_pieces} more groups, {len(names)} in all)")
    return ", ".join(pieces)


def compact_samples(samples: dict[str, dict]) -> dict[str, dict]:
    """``samples`` with simulation lists in the lossless range form (for job options)."""
    return {name: {**s, "sims": compact_ranges(s["sims"])} for name, s in samples.items()}
