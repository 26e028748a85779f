# Config validation, paths and input functions shared by every rule.
import glob
import json
import os
import shlex
import sys

from snakemake.exceptions import WorkflowError

from pipeline.config import validate_config
from pipeline.errors import ConfigError
from pipeline.io import layout
from pipeline.report import ASSET_FILES

try:
    _validated = validate_config(dict(config))
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None
config.clear()
config.update(_validated)

DATA = config["data"]
STUDY = config["study"]
RES = f"results/{STUDY}"
ASSETS = f"reports/{STUDY}/assets"
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
ENV = "../envs/pipeline.yaml"
SUITES = list(DATA["suites"])
SNAPSHOTS = [int(s) for s in DATA["snapshots"]]
TARGETS = [t["name"] for t in config["targets"]]
IS_MOCK = DATA["kind"] == "mock"
IS_STACKS = DATA["kind"] == "stacks"

if IS_MOCK:  # the mock writes into data.root: never into a directory that holds other files
    from pipeline.mock.root import MARKER, check_mock_root

    MOCK_MARKER = os.path.join(DATA["root"], MARKER)
    _first = next(iter(DATA["suites"].items()))
    try:
        check_mock_root(DATA["root"], layout.truth_path(DATA, _first[0], _first[1][0], SNAPSHOTS[0]))
    except ConfigError as exc:
        raise WorkflowError(str(exc)) from None


wildcard_constraints:
    suite="|".join(SUITES),
    sim=r"[A-Za-z0-9_.\-]+",
    snap=r"\d+",
    target="|".join(TARGETS),


def as_json(value):
    """Stage options as one canonical JSON string (stable, so params do not trigger reruns)."""
    return json.dumps(value, sort_keys=True)


def halo_tables():
    if IS_STACKS:  # one table per suite: every stack of the suite is one row
        return [f"{RES}/halos/{suite}/stacks.h5" for suite in SUITES]
    return [
        f"{RES}/halos/{suite}/{sim}_{snap:03d}.h5"
        for suite, sims in DATA["suites"].items()
        for sim in sims
        for snap in SNAPSHOTS
    ]


def radial_profile_tables():
    """Every snapshot's stacked radial profiles (profile stage)."""
    return [
        f"{RES}/radial_profiles/{suite}/{sim}_{snap:03d}.h5"
        for suite, sims in DATA["suites"].items()
        for sim in sims
        for snap in SNAPSHOTS
    ]


def gathered_radial_profiles():
    """The joined profile table the report shows, or none (stage off, or stacks as input)."""
    if IS_STACKS or not config["radial_profiles"]["enabled"]:
        return []
    return [f"{RES}/radial_profiles.h5"]


def mock_truth_tables():
    """The mock's latent halo properties (for the intrinsic noise floor); none for real data."""
    if not IS_MOCK:
        return []
    return [
        layout.truth_path(DATA, suite, sim, snap)
        for suite, sims in DATA["suites"].items()
        for sim in sims
        for snap in SNAPSHOTS
    ]


def _chunk_finder(what):
    """Input function: the single file of ``what`` (snapshot or catalog), or its chunks
    .0, .1, ... if that is absent."""
    path_of = {"snapshot": layout.snapshot_path, "catalog": layout.catalog_path}[what]

    def files(wildcards):
        return _existing_or_chunks(
            path_of(DATA, wildcards.suite, wildcards.sim, int(wildcards.snap))
        )

    return files


def ingest_inputs():
    """The ingest inputs (snapshot and catalog). Where every one is a single file (and always
    for the mock, which writes them), wildcard patterns; else functions that find chunk files.
    Per-job callables and input files are what makes building the DAG slow with thousands of
    simulations (bench/dag.py), so the common case has none."""
    patterns = {what: layout.wildcard_pattern(DATA, what) for what in ("snapshot", "catalog")}
    single = IS_MOCK or all(
        os.path.exists(pattern.format(suite=suite, sim=sim, snap=f"{snap:03d}"))
        for pattern in patterns.values()
        for suite, sims in DATA["suites"].items()
        for sim in sims
        for snap in SNAPSHOTS
    )
    return patterns if single else {what: _chunk_finder(what) for what in patterns}


def suite_params_files():
    """suite -> its simulation parameter file, for the suites that have one (joined at assemble)."""
    if IS_STACKS:
        return {}
    files = {suite: layout.params_path(DATA, suite) for suite in SUITES}
    return {s: f for s, f in files.items() if IS_MOCK or os.path.exists(f)}


def _existing_or_chunks(path):
    if IS_MOCK or os.path.exists(path):
        return [path]
    stem, ext = os.path.splitext(path)
    chunks = sorted(glob.glob(f"{stem}.[0-9]*{ext}"))
    return chunks or [path]  # a missing file then fails with Snakemake's MissingInputException


def target_config(name):
    return next(t for t in config["targets"] if t["name"] == name)


def target_features(name):
    return list(target_config(name).get("features", config["features"]))


def stack_input_files(wildcards):
    """The stacked-profile files of one suite (input kind stacks)."""
    from pipeline.ingest.stacks import stack_files

    return stack_files(
        DATA["root"], wildcards.suite, DATA["suites"][wildcards.suite], SNAPSHOTS,
        config["stacks"]["mass_bins"],
    )


def final_outputs():
    return [f"reports/{STUDY}/report.pdf"] + [
        f"{ASSETS}/{target}/{name}" for target in TARGETS for name in ASSET_FILES
    ]
