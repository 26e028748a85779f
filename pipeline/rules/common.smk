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
from pipeline.errors import ConfigError, DataError
from pipeline.io import layout
from pipeline.rules.planning import raise_gc_threshold
from pipeline.report import ASSET_FILES
from pipeline.samples import compact_ranges, compact_samples
from pipeline.study import validate_study

# the cyclic garbage collector less often while Snakemake plans thousands of jobs
raise_gc_threshold()

try:
    # Snakemake's own reader keeps the last of a key given twice: read each study file again with
    # the check that refuses it (the default config.yaml is read so by the Snakefile)
    for _configfile in workflow.overwrite_configfiles or ():
        read_yaml_file(_configfile)
    # the study's typed record (pipeline/study_record.py), built once; config stays Snakemake's
    # mapping, now validated with its defaults filled
    STUDY_RECORD = validate_study(dict(config))
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None
config.clear()
config.update(STUDY_RECORD.as_dict())

DATA = config["data"]
STUDY = STUDY_RECORD.name
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
# the rules' conda environment (--use-conda), by absolute path: rule files sit at two depths
ENV = os.path.join(workflow.basedir, "pipeline", "envs", "pipeline.yaml")
# name -> its typed record (pipeline.study_record.Sample: suite, volume, set, sims, snapshots,
# root, missing, role, mass_bins)
SAMPLES = STUDY_RECORD.samples
SUITES = sorted({s.suite for s in SAMPLES.values()})
# every (suite, volume, set, simulation, snapshot) the study reads, once even if two samples
# share it: one ingest (and profile-stage) job each
SOURCES = STUDY_RECORD.snapshot_sources()
SETS = sorted({(suite, volume, sset) for suite, volume, sset, _, _ in SOURCES})
TARGETS = [t.name for t in STUDY_RECORD.targets]
# the embedded mock writes the study's files (pipeline/rules/mock.smk) before they are read
IS_MOCK = STUDY_RECORD.data.is_mock
# how the rows are read (pipeline/inputs/): its rule file plans and runs the ingest jobs
KIND = STUDY_RECORD.input_kind


def _sample_of_source():
    """(suite, volume, set, sim, snap) -> the first sample that reads it (for messages)."""
    out = {}
    for name, s in SAMPLES.items():
        for sim in s.sims:
            for snap in s.snapshots:
                out.setdefault((s.suite, s.volume, s.set, sim, snap), name)
    return out


def _missing_message(what, missing, total, key_hint):
    """At most five missing inputs named with their sample, simulation and snapshot, then a
    count and the config keys to check."""
    shown = "\n".join(f"  {line}" for line in missing[:5])
    more = f"\n  ... and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (f"{len(missing)} of {total} {what} the samples ask for do not exist:\n{shown}{more}\n"
            f"Check {key_hint}.")


# inputs a sample with 'missing: skip' asked for and did not find: sample -> what was expected
# and found (per mass bin for stacks), recorded by assemble and shown in the report
MISSING_REPORT = {}


def _skip_or_stop(absent, what, total, key_hint):
    """Inputs that do not exist: a WorkflowError naming them where a sample's rule is 'error';
    where every sample that asks for them says 'skip', they are left out and counted."""
    stop = [line for name, line in absent if SAMPLES[name].missing == "error"]
    if stop:
        raise WorkflowError(_missing_message(what, stop, total, key_hint))


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


PROFILES_ON = KIND.reads_particles and config["radial_profiles"]["enabled"]
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


def mock_output_files(what):
    """The files the mock writes for one snapshot or catalog (wildcard patterns): the single
    file, or its ``mock.files_per_snapshot`` chunks."""
    return [str(f) for f in layout.chunk_paths(layout.wildcard_pattern(DATA, what),
                                               config["mock"]["files_per_snapshot"])]


def mock_truth_tables():
    """The mock's latent halo properties (for the intrinsic noise floor); none for real data."""
    if not IS_MOCK or not KIND.mock_truth_applies:
        return []
    return [layout.truth_path(DATA, suite, sim, snap, volume, sset)
            for suite, volume, sset, sim, snap in SOURCES]


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
    return list(STUDY_RECORD.features[name])


def samples_for_jobs():
    """The samples as job options: simulation lists as ranges."""
    return compact_samples(config["samples"])


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
