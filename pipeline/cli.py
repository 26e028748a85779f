"""The command line a user runs: ``scaling-pipeline run`` (check a study, then run the workflow
on it, from any directory), ``check-config``, ``apply`` (a relation file on a table of haloes) and
``--version``. The workflow's per-rule jobs are in :mod:`pipeline.jobs` (``python -m
pipeline.jobs --help``); given a job's name, this command line hands it over, so the rules'
``python -m pipeline.cli <job>`` runs it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import DataError, PipelineError
from .jobs import job_commands, run_command
from .jobs import main as job_main

log = logging.getLogger("pipeline")


def cmd_check_config(a) -> None:
    from .study import load_study

    study = load_study(a.config)
    print(f"{a.config}: valid study '{study.name}' (data.kind {study.data.kind}, input kind "
          f"{study.input_kind.name}, {len(study.samples)} samples: train {list(study.train)}, "
          f"hold out {list(study.holdout)}; "
          f"{sum(len(s.sims) for s in study.samples.values())} simulations in all, "
          f"{len(study.targets)} target(s))")


def cmd_run(a) -> None:
    """Check a study file (YAML syntax with file, line and column; every key), then hand it to
    Snakemake. ``snakemake --configfile`` parses the file before any workflow code runs, so a
    syntax error there reads only "not valid JSON or YAML"; this path names the line."""
    import os
    import shutil

    from .config import read_yaml_file
    from .study import validate_study

    args = list(a.snakemake_args)
    if args[:1] == ["--"]:
        args = args[1:]
    data_root = _pop_option(args, "--data-root") or a.data_root
    raw = read_yaml_file(a.config)
    configfiles = [str(a.config)]
    if data_root:
        data_root = os.path.abspath(os.path.expanduser(data_root))
        if not os.path.isdir(data_root):
            raise PipelineError(f"run: --data-root {data_root} is not a directory")
        raw.setdefault("data", {})["root"] = data_root
        configfiles.append(str(_data_root_override(data_root)))
    validate_study(raw)
    snakemake = shutil.which("snakemake")
    if snakemake is None:
        raise PipelineError("run: no 'snakemake' on PATH (pip install -e . installs it)")
    if not any(x.startswith(("--cores", "-c", "--jobs", "-j", "--profile")) for x in args):
        args = ["--cores", "1", *args]
    if not any(x.startswith(("--snakefile", "-s")) for x in args) and not Path("Snakefile").exists():
        args = ["--snakefile", str(_workflow_snakefile()), *args]  # run from any directory
    log.info("study %s is valid; running snakemake --configfile %s %s", a.config,
             " ".join(configfiles), " ".join(args))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(snakemake, [snakemake, "--configfile", *configfiles, *args])


def _workflow_snakefile() -> Path:
    """The workflow's Snakefile, beside the installed package (a checkout installed with
    ``pip install -e .``): ``run`` works from any directory, which holds the study's outputs."""
    snakefile = Path(__file__).resolve().parent.parent / "Snakefile"
    if not snakefile.is_file():
        raise PipelineError(f"run: no Snakefile in this directory and none at {snakefile} "
                            "(install the pipeline from its checkout: pip install -e .)")
    return snakefile


def _pop_option(args: list[str], name: str) -> str | None:
    """The value of ``name VALUE`` or ``name=VALUE`` in ``args``, removed from them (the options
    after the study file are otherwise passed on to snakemake)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
            del args[i:i + 2]
            return value
        if arg.startswith(name + "="):
            del args[i]
            return arg.split("=", 1)[1]
    return None


def _data_root_override(data_root: str) -> Path:
    """A second study file that sets ``data.root`` (Snakemake merges the study files given to
    --configfile, the later over the earlier), under .snakemake/ of the working directory."""
    import hashlib

    from .io.atomic import atomic_path

    path = Path(".snakemake", "scaling-pipeline",
                f"data-root-{hashlib.sha256(data_root.encode()).hexdigest()[:12]}.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text("# written by scaling-pipeline run --data-root\n"
                             f"data: {{root: {json.dumps(data_root)}}}\n")
    return path


def _read_any_table(path: str):
    """A table in any format astropy reads (the pipeline's .h5 under its own key first)."""
    from astropy.table import Table

    from .io.tables import read_table

    if Path(path).suffix in (".h5", ".hdf5", ".ecsv"):
        return read_table(path)
    if not Path(path).is_file():
        raise PipelineError(f"table file {path} does not exist")
    try:
        return Table.read(path)
    except (OSError, ValueError) as exc:
        raise PipelineError(f"cannot read table {path}: {exc}") from exc


#: the formats ``apply --out`` writes, by suffix
APPLY_OUT_FORMATS = (".ecsv", ".h5", ".hdf5", ".csv", ".fits")


def cmd_apply(a) -> None:
    import numpy as np

    from .discovery.relation_file import load_relation
    from .io.atomic import atomic_path
    from .io.tables import write_table

    suffix = Path(a.out).suffix
    if suffix not in APPLY_OUT_FORMATS:  # before any work
        raise PipelineError(f"apply: --out {a.out} has suffix {suffix or '(none)'!r}; expected one "
                            f"of {', '.join(APPLY_OUT_FORMATS)}")
    relation = load_relation(a.relation)
    table = _read_any_table(a.table)
    if a.sample:
        from .discovery.dataset import rows_of_samples

        table = rows_of_samples(table, a.sample)
    try:
        out = relation.apply(table)
    except DataError as exc:
        raise DataError(f"table {a.table}: {exc}") from None
    if suffix in (".h5", ".hdf5", ".ecsv"):
        write_table(out, a.out)
    else:  # FITS headers and CSV hold no nested metadata: keep the scalar entries
        out.meta = {k: v for k, v in out.meta.items() if isinstance(v, str | int | float)}
        out.meta["relation_file"] = str(a.relation)
        with atomic_path(a.out) as tmp:
            out.write(tmp, format={".csv": "ascii.csv", ".fits": "fits"}.get(suffix, None),
                      overwrite=True)
    predicted = np.asarray(out[relation.predicted_column], dtype=float)
    log.info("%s: %d rows, %d with a finite prediction, %d outside the training domain -> %s",
             relation.target.name, len(out), int(np.isfinite(predicted).sum()),
             int(np.asarray(out["outside_domain"]).sum()), a.out)


def build_parser() -> argparse.ArgumentParser:
    """A user's command line: check or run a study, apply a relation file."""
    p = argparse.ArgumentParser(
        prog="scaling-pipeline",
        description="Check or run a study of scaling relations, apply a relation file.",
        epilog="The workflow's jobs (one per rule): python -m pipeline.jobs --help")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _user_commands(sub)
    return p


def _user_commands(sub) -> None:
    """A user's commands: check or run a study, apply a relation file."""
    s = sub.add_parser("check-config", help="validate a study config: YAML syntax (file, line, "
                       "column) and every key against the schema")
    s.add_argument("config")
    s.set_defaults(func=cmd_check_config)

    s = sub.add_parser("run", help="check a study file, then run snakemake --configfile on it "
                       "(names the file, line and column of a YAML error)")
    s.add_argument("config", help="the study's YAML file")
    s.add_argument("--data-root", help="read the study's data from this folder instead of its "
                   "data.root (e.g. your clone of emu_CAMELS); may also follow the study file")
    s.add_argument("snakemake_args", nargs=argparse.REMAINDER,
                   help="passed on to snakemake (e.g. --cores 2 -n); --cores 1 if none is given")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("apply", help="apply a relation file to a table of haloes",
                       description="Add <y>_predicted [dex], outside_domain and, where the table "
                                   "has the true y, <y>_residual to TABLE; write OUT (.ecsv, .h5, "
                                   ".csv or .fits).")
    s.add_argument("relation", help="a relation file, reports/<study>/relations/<target>.json")
    s.add_argument("table", help="haloes: .h5 (the pipeline's), .ecsv, .csv, .fits, ...")
    s.add_argument("--out", required=True)
    s.add_argument("--sample", nargs="*", default=None, help="only the rows of these samples")
    s.set_defaults(func=cmd_apply)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in job_commands():  # a rule's job: pipeline.jobs runs it
        return job_main(argv)
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
