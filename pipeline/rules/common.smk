# Config validation, paths and input functions shared by every rule.
import glob
import hashlib
import json
import os
import re
import shlex
import sys

from snakemake.exceptions import WorkflowError

from pipeline.config import read_yaml_file
from pipeline.config import target_features as pipeline_target_features
from pipeline.errors import ConfigError, DataError
from pipeline.io import layout
from pipeline.rules.planning import raise_gc_threshold
from pipeline.report import ASSET_FILES
from pipeline.samples import compact_ranges, compact_samples, snapshot_sources
from pipeline.study import validate_study

# the cyclic garbage collector less often while Snakemake plans thousands of jobs
raise_gc_threshold()

try:
    # Snakemake's own reader keeps the last of a key given twice: read each study file again with
    # the check that refuses it (the default config.yaml is read so by the Snakefile)
    for _configfile in workflow.overwrite_configfiles or ():
        read_yaml_file(_configfile)
    _validated = validate_study(dict(config))
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None
config.clear()
config.update(_validated)

DATA = config["data"]
STUDY = config["study"]
RES = f"results/{STUDY}"
ASSETS = f"reports/{STUDY}/assets"
RELATIONS = f"reports/{STUDY}/relations"
CAPTIONS = os.path.join(workflow.basedir, "pipeline", "report", "captions")


def _uses_conda():
    settings = getattr(workflow, "deployment_settings", None)
    methods = getattr(settings, "deployment_method", None) or ()
    return any("conda" in str(m).lower() for m in methods)


# Jobs run the stage CLI of this checkout: with the interpreter running snakemake (same
# environment, also on a cluster node), or with the rule's conda env under --use-conda.
PY = "python" if _uses_conda() else sys.executable
CLI = (
    f"PYTHONPATH={shlex.quote(workflow.basedir)}${{PYTHONPATH:+:$PYTHONPATH}} "
    f"{PY} -m pipeline.cli"
)
# CLI inside a shell command string (its braces escaped from Snakemake's formatting): one field
# less to format per job than {params.cli}
CLI_IN_SHELL = CLI.replace("{", "{{").replace("}", "}}")
ENV = "../envs/pipeline.yaml"
SAMPLES = config["samples"]
SUITES = sorted({s["suite"] for s in SAMPLES.values()})
# every (suite, volume, set, simulation, snapshot) the study reads, once even if two samples
# share it: one ingest (and profile-stage) job each
SOURCES = snapshot_sources(config)
SETS = sorted({(suite, volume, sset) for suite, volume, sset, _, _ in SOURCES})
TARGETS = [t["name"] for t in config["targets"]]
IS_MOCK = DATA["kind"] == "mock"
IS_STACKS = DATA["kind"] == "stacks"
# rows straight from the group catalogs (pipeline/ingest/catalog.py): no snapshot is read
IS_CATALOG = DATA["input"] == "catalog"


def _sample_of_source():
    """(suite, volume, set, sim, snap) -> the first sample that reads it (for messages)."""
    out = {}
    for name, s in SAMPLES.items():
        for sim in s["sims"]:
            for snap in s["snapshots"]:
                out.setdefault((s["suite"], s["volume"], s["set"], sim, int(snap)), name)
    return out


def _missing_message(what, missing, total, key_hint):
    """At most five missing inputs named with their sample, simulation and snapshot, then a
    count and the config keys to check."""
    shown = "\n".join(f"  {line}" for line in missing[:5])
    more = f"\n  ... and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (f"{len(missing)} of {total} {what} the samples ask for do not exist:\n{shown}{more}\n"
            f"Check {key_hint}.")


if IS_MOCK:
    # the mock writes into <data.root>/<key of its configuration>: studies that want other mocks
    # never regenerate each other's inputs; data.root must hold nothing but mocks
    from pipeline.mock.root import MARKER, check_mock_root, mock_key

    _mock_sets = {}
    for _suite, _volume, _set, _sim, _snap in SOURCES:
        _mock_sets.setdefault(f"{_suite}/{_volume}/{_set}", []).append(_sim)
    MOCK_KEY = mock_key(config["mock"], {k: list(dict.fromkeys(v)) for k, v in _mock_sets.items()})
    try:
        check_mock_root(DATA["root"], MOCK_KEY)
    except ConfigError as exc:
        raise WorkflowError(str(exc)) from None
    MOCK_ROOT = os.path.join(DATA["root"], MOCK_KEY)
    DATA = {**DATA, "root": MOCK_ROOT}  # the paths of every rule; config keeps the user's data.root
    MOCK_MARKER = os.path.join(MOCK_ROOT, MARKER)
    # what the mock's jobs share beyond their outputs (the halo mass function per cosmology)
    MOCK_CACHE = os.path.join(MOCK_ROOT, "_cache")

# inputs a sample with 'missing: skip' asked for and did not find: sample -> what was expected
# and found (per mass bin for stacks), recorded by assemble and shown in the report
MISSING_REPORT = {}


def _skip_or_stop(absent, what, total, key_hint):
    """Inputs that do not exist: a WorkflowError naming them where a sample's rule is 'error';
    where every sample that asks for them says 'skip', they are left out and counted."""
    stop = [line for name, line in absent if SAMPLES[name]["missing"] == "error"]
    if stop:
        raise WorkflowError(_missing_message(what, stop, total, key_hint))


if IS_STACKS:  # stacked-profile files: listed once per (root, suite), measured in cached blocks
    from pipeline.ingest.stacks import MEASUREMENT_VERSION, missing_report, missing_stacks, stack_blocks
    from pipeline.io.camels_stacks import list_stack_files, weighted_only

    STACK_OPTIONS = {k: config["stacks"][k] for k in ("hubble_param", "omega_b")}

    def _stack_cache(root):
        """Cache folder of one data root: shared by every study that reads the same files with
        the same cosmology."""
        key = json.dumps({"root": os.path.abspath(root), "version": MEASUREMENT_VERSION,
                          **STACK_OPTIONS}, sort_keys=True)
        return f"results/_stacks/{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    CACHE_OF_ROOT = {s["root"]: _stack_cache(s["root"]) for s in SAMPLES.values()}
    ROOT_OF_CACHE = {os.path.basename(c): r for r, c in CACHE_OF_ROOT.items()}
    _LISTINGS = {(s["root"], s["suite"]): list_stack_files(s["root"], s["suite"])
                 for s in SAMPLES.values()}
    _absent = missing_stacks(SAMPLES, _LISTINGS)

    def _absent_line(name, sim, snap, mass_bin):
        sample = SAMPLES[name]
        line = f"sample {name!r}: simulation {sim}, snapshot {snap:03d}, mass bin {mass_bin}"
        weighted = weighted_only(sample["root"], sample["suite"], sim, snap)
        if weighted is not None:  # a clone with the weighted product only
            line += (f" (only the weighted profile {weighted} is there; the pipeline reads the "
                     "unweighted *_uw_<mass bin>.txt stacks)")
        return line

    _skip_or_stop(
        [(n, _absent_line(n, sim, snap, b)) for n, sim, snap, b in _absent],
        "stacked-profile files",
        sum(len(s["sims"]) * len(s["snapshots"]) * len(s["mass_bins"]) for s in SAMPLES.values()),
        "the samples' roots (data.root, samples.<name>.root), sims, snapshots and mass_bins, "
        "or set missing: skip for a ragged set")
    try:
        MISSING_REPORT = missing_report(SAMPLES, _absent)
    except DataError as exc:
        raise WorkflowError(str(exc)) from None
    BLOCKS = {key: dict(stack_blocks(listing, config["stacks"]["block_size"]))
              for key, listing in _LISTINGS.items()}
    _wanted = {(s["root"], s["suite"], sim) for s in SAMPLES.values() for sim in s["sims"]}
    NEEDED_BLOCKS = [(os.path.basename(CACHE_OF_ROOT[root]), suite, block)
                     for (root, suite), blocks in BLOCKS.items() for block, sims in blocks.items()
                     if any((root, suite, sim) in _wanted for sim in sims)]


wildcard_constraints:
    suite="|".join(re.escape(s) for s in SUITES),
    volume=r"[A-Za-z0-9_.\-]+",
    simset=r"[A-Za-z0-9_.\-]+",
    sim=r"[A-Za-z0-9_.\-]+",
    snap=r"\d+",
    block=r"[A-Za-z0-9_.\-]+",
    cache=r"[0-9a-f]{12}",
    target="|".join(TARGETS),
    slope="free|fixed",


def as_json(value):
    """Stage options as one canonical JSON string (stable, so params do not trigger reruns)."""
    return json.dumps(value, sort_keys=True)


def shell_json(value):
    """``as_json(value)`` quoted for the shell, as a 1-tuple: Snakemake passes a tuple param to
    the command as is, where it scans a string param for wildcards in every job (at CAMELS LH
    size, thousands of scans of a long JSON string), and still records it for --rerun-triggers
    params. In the command: ``{params.options}``, without ``:q``."""
    return (shlex.quote(as_json(value)),)


def halo_tables():
    """Every table assemble joins: one per (suite, volume, set, sim, snapshot), or the cached
    blocks of stacked profiles."""
    if IS_STACKS:
        return [f"results/_stacks/{cache}/{suite}/{block}.h5" for cache, suite, block in NEEDED_BLOCKS]
    return [f"{RES}/halos/{suite}/{volume}/{sset}/{sim}_{snap:03d}.h5"
            for suite, volume, sset, sim, snap in SOURCES]


PROFILES_ON = not IS_STACKS and not IS_CATALOG and config["radial_profiles"]["enabled"]
PROFILE_OPTIONS = {
    **{k: v for k, v in config["radial_profiles"].items() if k not in ("enabled", "reference_root")},
    "star_forming_gas": config["star_forming_gas"],
}


# an ingest job's one output: its halo table and, with the profile stage on, the snapshot's
# stacked profiles beside it (one file per job halves the files Snakemake plans and checks)
HALO_TABLE = f"{RES}/halos/{{suite}}/{{volume}}/{{simset}}/{{sim}}_{{snap}}.h5"


def gathered_radial_profiles():
    """The joined profile table the report shows, or none (stage off, or stacks as input)."""
    return [f"{RES}/radial_profiles.h5"] if PROFILES_ON else []


def profiles_figure():
    """The profile figure's asset (report_profiles), or none where there is no profile table."""
    return [f"{ASSETS}/profiles.svg"] if PROFILES_ON else []


def mock_truth_tables():
    """The mock's latent halo properties (for the intrinsic noise floor); none for real data."""
    if not IS_MOCK or IS_CATALOG:  # the latent properties are the haloes', not the subhaloes'
        return []
    return [layout.truth_path(DATA, suite, sim, snap, volume, sset)
            for suite, volume, sset, sim, snap in SOURCES]


def mock_output_files(what):
    """The files the mock writes for one snapshot or catalog (wildcard patterns): the single
    file, or its ``mock.files_per_snapshot`` chunks."""
    return [str(f) for f in layout.chunk_paths(layout.wildcard_pattern(DATA, what),
                                               config["mock"]["files_per_snapshot"])]


# one root per (suite, volume, set) (checked with the config); the mock's is DATA's
ROOT_OF_SET = {} if IS_MOCK else {(s["suite"], s["volume"], s["set"]): s["root"]
                                  for s in SAMPLES.values()}
ONE_ROOT = all(os.path.abspath(r) == os.path.abspath(DATA["root"]) for r in ROOT_OF_SET.values())


def data_of_set(suite, volume, sset):
    """The data options (layout, root) of one set: its samples' root."""
    return {**DATA, "root": ROOT_OF_SET.get((suite, volume, sset), DATA["root"])}


def _chunk_finder(what):
    """Input function: the single file of ``what`` (snapshot or catalog) in its set's root, or
    its chunks .0, .1, ... if that is absent."""
    path_of = {"snapshot": layout.snapshot_path, "catalog": layout.catalog_path}[what]

    def files(wildcards):
        return _existing_or_chunks(
            path_of(data_of_set(wildcards.suite, wildcards.volume, wildcards.simset),
                    wildcards.suite, wildcards.sim, int(wildcards.snap), wildcards.volume,
                    wildcards.simset))

    return files


def _samples_reading(source):
    """The samples that read one (suite, volume, set, sim, snapshot)."""
    suite, volume, sset, sim, snap = source
    return [name for name, s in SAMPLES.items()
            if (s["suite"], s["volume"], s["set"]) == (suite, volume, sset) and sim in s["sims"]
            and snap in {int(n) for n in s["snapshots"]}]


def _check_particle_inputs():
    """Whether every snapshot and catalog is a single file. Missing ones stop the workflow
    (WorkflowError naming sample, simulation and snapshot, not Snakemake's list of every path),
    or, where every sample reading them says ``missing: skip``, leave SOURCES and are counted
    in MISSING_REPORT."""
    single, missing, skipped = True, [], []
    kinds = [("catalog", layout.catalog_path)]
    if not IS_CATALOG:
        kinds.insert(0, ("snapshot", layout.snapshot_path))
    total = len(kinds) * len(SOURCES)
    for source in SOURCES:
        suite, volume, sset, sim, snap = source
        data = data_of_set(suite, volume, sset)
        for what, path_of in kinds:
            path = path_of(data, suite, sim, snap, volume, sset)
            if os.path.exists(path):
                continue
            single = False
            if not layout.chunk_path(path, 0).exists():
                others = [f for f in _existing_or_chunks(path) if f != path]
                found = (f"no {what} chunk {layout.chunk_path(path, 0)} ({len(others)} other "
                         f"chunk(s) of it exist)" if others else f"no {what} {path}")
                readers = _samples_reading(source)
                line = f"sample {readers[0]!r}: simulation {sim}, snapshot {snap:03d}: {found}"
                if all(SAMPLES[n]["missing"] == "skip" for n in readers):
                    skipped.append((source, found))
                    break
                missing.append(line)
    if missing:
        raise WorkflowError(_missing_message(
            " and ".join(w for w, _ in kinds) + " files", missing, total,
            "the samples' roots (data.root, samples.<name>.root), data.layout "
            f"({DATA['layout']}), sims and snapshots, or set missing: skip for a ragged set"))
    if skipped:
        what_missing = dict(skipped)  # source -> the first file found absent (named)
        for name, sample in SAMPLES.items():
            units = [(sample["suite"], sample["volume"], sample["set"], sim, int(snap))
                     for sim in sample["sims"] for snap in sample["snapshots"]]
            lost = [u for u in units if u in what_missing]
            example = what_missing[lost[0]] if lost else ""
            if len(lost) == len(units):
                raise WorkflowError(f"sample {name!r}: none of its {len(units)} (simulation, "
                                    f"snapshot) has its files under {sample['root']}, e.g. "
                                    f"{example}: check its root, suite, sims and snapshots")
            if lost:
                MISSING_REPORT[name] = {"snapshots": {"expected": len(units),
                                                      "found": len(units) - len(lost)}}
                print(f"sample {name}: {len(lost)} of {len(units)} (simulation, snapshot) lack a "
                      f"file and are skipped (missing: skip), e.g. simulation {lost[0][3]}, "
                      f"snapshot {lost[0][4]:03d}: {example}", file=sys.stderr)
        SOURCES[:] = [src for src in SOURCES if src not in what_missing]
    return single


_INGEST_INPUTS = {}


def ingest_inputs():
    """The ingest inputs (snapshot and catalog). Where every one is a single file in one root
    (and always for the mock, which writes them), wildcard patterns; else functions that find
    each set's root and chunk files. Per-job callables and input files are what makes building
    the DAG slow with thousands of simulations (bench/dag.py), so the common case has none."""
    if not _INGEST_INPUTS:
        patterns = {what: layout.wildcard_pattern(DATA, what)
                    for what in (("catalog",) if IS_CATALOG else ("snapshot", "catalog"))}
        if IS_MOCK:  # the mock's own files, single or chunked as mock.files_per_snapshot says
            _INGEST_INPUTS.update({w: mock_output_files(w) for w in patterns})
        elif _SINGLE_FILES and ONE_ROOT:
            _INGEST_INPUTS.update(patterns)
        else:
            _INGEST_INPUTS.update({w: _chunk_finder(w) for w in patterns})
    return dict(_INGEST_INPUTS)


def set_params_files():
    """'suite/volume/set' -> its simulation parameter file, for the sets that have one (joined
    at assemble)."""
    if IS_STACKS:
        return {}
    files = {f"{suite}/{volume}/{sset}": layout.params_path(data_of_set(suite, volume, sset),
                                                             suite, volume, sset)
             for suite, volume, sset in SETS}
    return {k: f for k, f in files.items() if IS_MOCK or os.path.exists(f)}


def _existing_or_chunks(path):
    """The single file, or the chunks of it that exist (chunk 0 first): the reader then names
    the missing ones from the chunk count in the header."""
    if os.path.exists(path):
        return [path]
    stem, ext = os.path.splitext(path)
    named = {f: layout.chunk_of(f) for f in glob.glob(f"{glob.escape(stem)}.*{ext}")}
    chunks = sorted((f for f, c in named.items() if c and str(c[0]) == os.path.normpath(path)),
                    key=lambda f: named[f][1])
    return chunks or [path]  # a missing file then fails with Snakemake's MissingInputException


def set_sims(suite, volume, sset):
    """Every simulation of one set that some sample reads, in the samples' order."""
    return list(dict.fromkeys(sim for s, v, st, sim, _ in SOURCES if (s, v, st) == (suite, volume, sset)))


# the SR run whose equation is "the discovered relation": the correction free to use the
# relation's x, or (sr.keep_slope) keeping x to its self-similar slope; the other is evaluated
# beside it (free adds x to the ranked features where the ranking did not select it)
def main_slope(target):
    """'fixed' where the target (or sr) keeps x to its self-similar slope, else 'free'."""
    keep = target_config(target).get("keep_slope", config["sr"]["keep_slope"])
    return "fixed" if keep else "free"


def sr_table(target):
    return f"{RES}/sr/{target}.{main_slope(target)}.ecsv"


def sr_alternative(target):
    if not config["sr"]["compare_slope_constraint"]:
        return []
    other = "free" if main_slope(target) == "fixed" else "fixed"
    return [f"{RES}/sr/{target}.{other}.ecsv"]


def sr_job_options(wc):
    """The sr rule's --options for target ``wc.target``."""
    return as_json(
        {
            "target": target_config(wc.target),
            "train": config["train"],
            "holdout": config["holdout"],
            "sr": config["sr"],
        }
    )


def target_config(name):
    return next(t for t in config["targets"] if t["name"] == name)


def target_features(name):
    return pipeline_target_features(config, target_config(name))


def stack_block_sims(wildcards):
    """The simulations of one block (input kind stacks)."""
    return BLOCKS[(ROOT_OF_CACHE[wildcards.cache], wildcards.suite)][wildcards.block]


def stack_block_files(wildcards):
    """Every stacked-profile file of one block's simulations (input kind stacks)."""
    files = _LISTINGS[(ROOT_OF_CACHE[wildcards.cache], wildcards.suite)]
    return [str(path) for sim in stack_block_sims(wildcards)
            for _, path in sorted(files[sim].items())]


def samples_for_jobs():
    """The samples as job options: simulation lists as ranges."""
    return compact_samples(SAMPLES)


def final_outputs():
    return (
        [f"reports/{STUDY}/report.pdf"]
        + [f"{ASSETS}/{target}/{name}" for target in TARGETS for name in ASSET_FILES]
        + [f"{RELATIONS}/{target}.json" for target in TARGETS]
    )


def columns_config():
    """The parts of the config that say which registry columns a study has (for the relation
    files' units and definitions)."""
    return {key: config[key] for key in ("data", "catalog", "ingest") if key in config}


def catalog_columns_used():
    """The columns a catalog study reads (features, targets' x and y, the evaluation's bins):
    their catalog fields must exist; the rest are read where present."""
    used = {config["evaluate"]["bin_column"]}
    for t in config["targets"]:
        used |= {t["x"], t["y"], *target_features(t["name"])}
    from pipeline.columns import PER_ROW_COLUMNS
    from pipeline.columns.environment import EnvironmentOptions, environment_columns

    env = {c.name for c in environment_columns(EnvironmentOptions(**config["ingest"]["environment"]))}
    return sorted(used - env - set(PER_ROW_COLUMNS))


# real particle data: checked (and skipped inputs left out) before any rule reads SOURCES
_SINGLE_FILES = _check_particle_inputs() if not IS_MOCK and not IS_STACKS else True
