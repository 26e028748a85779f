"""The workflow's jobs: one command per rule, each calling one stage function.

The rules call them as ``python -m pipeline.cli <job> ...`` (the user's command line hands a job
command to :func:`main` here; ``python -m pipeline.jobs <job>`` is the same); a job's options
arrive as one JSON object (``--options``) built from the validated study by the rule's
``params:``. A user's commands (``run``, ``check-config``, ``apply``) are in
:mod:`pipeline.cli`. On the top floor with it: it may import every stage.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import time

from . import __version__
from .errors import PipelineError

__all__ = ["build_job_parser", "job_commands", "main", "run_command"]

log = logging.getLogger("pipeline")


def _options(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PipelineError(f"--options is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise PipelineError("--options must be a JSON object")
    return value


def _source(a) -> None:
    """Fill --suite/--volume/--set/--sim/--snap from ``--source`` (Snakemake's ``{wildcards}``:
    ``sim=LH_0,simset=LH,snap=090,suite=IllustrisTNG,volume=L25n256``): one field to format per
    job instead of five, which counts when a study plans thousands of them."""
    if a.source is None:
        missing = [f"--{n}" for n in ("suite", "sim", "snap") if getattr(a, n) is None]
        if missing:
            raise PipelineError(f"{a.command}: give --source or {', '.join(missing)}")
        return
    try:
        fields = dict(item.split("=", 1) for item in a.source.split(","))
        a.suite, a.sim, a.snap = fields["suite"], fields["sim"], int(fields["snap"])
    except (ValueError, KeyError) as exc:
        raise PipelineError(f"{a.command}: --source must read suite=...,sim=...,snap=... "
                            f"(volume, simset optional), got {a.source!r}") from exc
    a.volume, a.set = fields.get("volume", a.volume), fields.get("simset", a.set)


def cmd_mock_params(a) -> None:
    from .io.params import write_simulation_params
    from .mock.parameters import latin_hypercube_params
    from .samples import expand_simulations

    o = _options(a.options)
    params = latin_hypercube_params(expand_simulations(o["sims"]), o["parameter_ranges"], o["seed"],
                                    o.get("stream", a.suite))
    write_simulation_params(a.out, params)


def cmd_mock_root(a) -> None:
    from .mock.root import write_marker

    write_marker(a.out, a.seed)


def cmd_mock_sim(a) -> None:
    from .io.gadget import output_name
    from .io.params import read_simulation_params
    from .mock.simulate import MockOptions, write_mock_snapshot

    o = _options(a.options)
    all_params = read_simulation_params(a.params_file)
    if a.sim not in all_params:
        raise PipelineError(f"parameter file {a.params_file} has no row for simulation {a.sim}")
    snaps = dict(zip(o.pop("snapshots"), o.pop("redshifts"), strict=True))
    opts = MockOptions(
        **{k: v for k, v in o.items() if k in MockOptions.__dataclass_fields__}, snapshots=snaps
    )
    n = opts.files_per_snapshot
    if not (len(a.snapshot_out) == len(a.catalog_out) == n * len(snaps) == n * len(a.truth_out)):
        raise PipelineError(f"mock-sim: give one --truth-out per snapshot and {n} --snapshot-out "
                            f"and --catalog-out file(s) per snapshot (mock.files_per_snapshot = {n})")
    for i, snap in enumerate(snaps):
        files = slice(i * n, (i + 1) * n)
        write_mock_snapshot(output_name(a.snapshot_out[files]), output_name(a.catalog_out[files]),
                            a.truth_out[i], a.suite, a.sim, snap, all_params[a.sim], opts,
                            mass_function_cache=a.cache_dir)


def cmd_ingest(a) -> None:
    from .ingest.particles import IngestOptions, measure_snapshot
    from .io.gadget import output_name
    from .io.params import read_simulation_params
    from .io.tables import PROFILES_KEY, TABLE_KEY, write_table, write_tables

    _source(a)
    o = _options(a.options)
    # the profile stage's options may come inside --options (one field less per job to format)
    inline_profile_options = o.pop("profile_options", None)
    params = {}
    if a.params_file:
        if len(a.params_file) > 1:
            raise PipelineError(f"ingest: one --params-file expected, got {a.params_file}")
        table = read_simulation_params(a.params_file[0])
        if a.sim not in table:
            raise PipelineError(f"parameter file {a.params_file[0]} has no row for simulation {a.sim}")
        params = table[a.sim]
    profile_options = None
    if inline_profile_options is not None or a.profile_options is not None:
        # the profile stage in the same pass over the gas: each snapshot is read once
        profile_options = _profile_options(
            inline_profile_options if a.profile_options is None else _options(a.profile_options))
    halos, profiles = measure_snapshot(
        output_name(a.snapshot), output_name(a.catalog), IngestOptions(**o), profile_options,
        meta={"suite": a.suite, "volume": a.volume, "set": a.set, "sim": a.sim,
              "snapshot": a.snap, "params": params},
        profile_meta={"suite": a.suite, "sim": a.sim, "snapshot": a.snap},
    )
    if profiles is None:
        write_table(halos, a.out)
    else:  # one file per snapshot: half the files for Snakemake to plan and check
        write_tables({TABLE_KEY: halos, PROFILES_KEY: profiles}, a.out)


def cmd_ingest_catalog(a) -> None:
    from .columns.environment import EnvironmentOptions
    from .ingest.catalog import CatalogOptions, catalog_rows, environment_of_rows
    from .io.gadget import output_name
    from .io.tables import write_table

    _source(a)
    o = _options(a.options)
    env = EnvironmentOptions(**o.pop("environment", {}))
    table = catalog_rows(output_name(a.catalog), CatalogOptions(**o), columns=a.columns,
                         meta={"suite": a.suite, "volume": a.volume, "set": a.set, "sim": a.sim,
                               "snapshot": a.snap, "params": {}})
    if env.features:
        table = environment_of_rows(table, output_name(a.catalog), env)
    write_table(table, a.out)


def _profile_options(o: dict):
    from .particles.shells import ProfileOptions

    return ProfileOptions(**{**o, "mass_bins": tuple(o.get("mass_bins", ProfileOptions.mass_bins))})


def cmd_ingest_stacks(a) -> None:
    from .ingest.stacks import StackOptions, measure_stack_block
    from .io.tables import write_table
    from .samples import expand_simulations

    o = _options(a.options)
    opts = StackOptions(hubble_param=o["hubble_param"], omega_b=o["omega_b"])
    write_table(measure_stack_block(a.root, a.suite, expand_simulations(a.sims), opts), a.out)


def cmd_radial_profiles(a) -> None:
    from .io.gadget import output_name
    from .io.tables import write_table
    from .radial_profiles.measure import measure_radial_profiles

    opts = _profile_options(_options(a.options))
    table = measure_radial_profiles(output_name(a.snapshot), output_name(a.catalog), opts,
                                    meta={"suite": a.suite, "sim": a.sim, "snapshot": a.snap})
    write_table(table, a.out)


def _expanded_samples(samples: dict) -> dict:
    """Job options carry simulation lists as ranges (pipeline.samples.compact_ranges)."""
    from .samples import expand_simulations

    return {name: {**s, "sims": expand_simulations(s["sims"])} for name, s in samples.items()}


def cmd_assemble(a) -> None:
    import contextlib
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .ingest.assemble import assemble_job
    from .io.tables import write_table
    from .radial_profiles.gather import gather_profile_tables

    params_files = {}
    for pair in a.params_files or []:
        key, sep, path = pair.partition("=")
        if not sep or not key or not path:
            raise PipelineError(f"assemble: --params-files takes SUITE/VOLUME/SET=PATH pairs, "
                                f"got {pair!r}")
        params_files[key] = path
    # the same ingest files hold each snapshot's profiles: this one job joins both tables, so a
    # study of thousands of snapshots plans one consumer of them, not two; with a second thread
    # the profiles are joined in a forked process beside the haloes (both are bound by parsing
    # each file's table header, which holds the GIL)
    with contextlib.ExitStack() as stack:
        joining = None
        if a.profiles_out and a.threads > 1 and "fork" in multiprocessing.get_all_start_methods():
            pool = stack.enter_context(ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("fork")))
            joining = pool.submit(gather_profile_tables, a.inputs)
        halos = assemble_job(a.inputs, _options(a.options), params_files)
        profiles = None
        if joining is not None:
            profiles = joining.result()  # the worker's error, if any, is raised here
        elif a.profiles_out:
            profiles = gather_profile_tables(a.inputs)
    # both tables written once both joins have succeeded: a failed job leaves neither
    if profiles is not None:
        write_table(profiles, a.profiles_out)
    write_table(halos, a.out)


def _target_and_rows(a, o):
    from .discovery.dataset import Target, rows_of_samples
    from .io.tables import read_table

    target = Target.from_config(o["target"])
    rows = rows_of_samples(read_table(a.halos), o["train"])
    return target, rows


def cmd_rank(a) -> None:
    import numpy as np

    from .discovery.dataset import design_matrix, features_with_values, sample_column, simulation_ids
    from .discovery.rank import RankOptions, rank_features
    from .io.tables import write_table

    o = _options(a.options)
    target, rows = _target_and_rows(a, o)
    features, dropped = features_with_values(rows, o["features"])
    x, y, used = design_matrix(rows, features, target)
    # the relation's own x is in every candidate relation: a feature correlated with it (as most
    # halo properties are, through mass) is not redundant for symbolic regression
    table = rank_features(x, y, features, RankOptions(**o["rank"]), ungrouped=[target.x],
                          sims=simulation_ids(rows)[used], dropped=dropped,
                          samples=np.asarray(rows[sample_column(rows)]).astype(str)[used],
                          x_rel=np.asarray(rows[target.x], dtype=float)[used])
    table.meta["target"] = o["target"]
    write_table(table, a.out)


def cmd_sr(a) -> None:
    import numpy as np

    from .discovery.dataset import Target
    from .discovery.sr.search import SROptions
    from .discovery.sr.stage import discover_slopes
    from .io.tables import read_table, write_table

    o = _options(a.options)
    slopes = a.slope or ["free"]
    outs = [a.out] if isinstance(a.out, str) else a.out
    if len(outs) != len(slopes):
        raise PipelineError(f"sr: --out needs one file per --slope {slopes}, got {outs}")
    rank = read_table(a.rank, required=["feature", "selected"])
    ranked = [str(f) for f in rank["feature"][np.asarray(rank["selected"], dtype=bool)]]
    tables = discover_slopes(read_table(a.halos), Target.from_config(o["target"]), ranked,
                             SROptions(**o["sr"]), slopes, o["train"], o.get("holdout"))
    for slope, out in zip(slopes, outs, strict=True):
        tables[slope].meta["target"] = o["target"]
        write_table(tables[slope], out)


def cmd_evaluate(a) -> None:
    from .discovery.dataset import Target
    from .discovery.evaluate import EvaluateOptions, evaluate_tables
    from .discovery.sr.record import SRMeta
    from .io.tables import read_table, write_table

    o = _options(a.options)
    sr = read_table(a.sr, required=["expression", "chosen"])
    halos = read_table(a.halos)
    target = Target.from_config(o["target"])
    alternative = (SRMeta.from_meta(read_table(a.sr_alternative,
                                               required=["expression", "chosen"]).meta)
                   if a.sr_alternative else None)
    metrics, residuals, per_sim = evaluate_tables(
        halos, SRMeta.from_meta(sr.meta), target, o["train"], o["holdout"], EvaluateOptions(**o["evaluate"]),
        [read_table(f) for f in a.truth], alternative)
    write_table(residuals, a.residuals)
    write_table(per_sim, a.per_sim)
    if a.relation:
        from .config import registry_columns
        from .discovery.relation_file import relation_record, write_relation

        record = relation_record(halos, target, sr.meta, o["train"],
                                 registry_columns(o.get("columns_config", {})), o.get("study", ""))
        write_relation(record, a.relation)
    write_table(metrics, a.out)


def cmd_report_assets(a) -> None:
    from .report.assets import write_target_assets

    o = _options(a.options)
    write_target_assets(a.out_dir, o["target"], a.rank, a.sr, a.evaluate, a.residuals, a.per_sim,
                        o["samples"])


def cmd_report_profiles(a) -> None:
    from .io.tables import read_table
    from .report.profiles_figure import write_profiles_figure

    o = _options(a.options)  # the mock's profiles are drawn against real stacks; real data alone
    reference_root = o["radial_profiles"]["reference_root"] if o["data"]["kind"] == "mock" else None
    write_profiles_figure(a.out, read_table(a.radial_profiles), reference_root)


def cmd_report(a) -> None:
    from .report.build import build_report

    for flag, paths in (("radial-profiles", a.radial_profiles), ("profiles-figure", a.profiles_figure)):
        if len(paths) > 1:
            raise PipelineError(f"report: at most one --{flag} file, got {paths}")
    if a.profiles_figure and not a.radial_profiles:
        raise PipelineError("report: --profiles-figure needs the --radial-profiles table it shows")
    from .study_record import Study

    config = _options(a.options)
    config["samples"] = _expanded_samples(config["samples"])
    study = Study.from_config(config)
    names = [t.name for t in study.targets]
    per_target = {}
    for flag, paths in (("rank", a.rank), ("sr", a.sr), ("evaluate", a.evaluate),
                        ("residuals", a.residuals), ("per_sim", a.per_sim)):
        if len(paths) != len(names):
            raise PipelineError(f"report: --{flag.replace('_', '-')} needs one file per target {names}")
        per_target[flag] = dict(zip(names, paths, strict=True))
    build_report(a.out, study, a.halos, per_target["rank"], per_target["sr"],
                 per_target["evaluate"], per_target["residuals"], per_target["per_sim"],
                 profiles_path=a.radial_profiles[0] if a.radial_profiles else None,
                 profiles_figure=a.profiles_figure[0] if a.profiles_figure else None)


def _add_source_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--source", default=None,
                   help="suite=...,volume=...,simset=...,sim=...,snap=... (instead of the five)")
    s.add_argument("--suite", default=None)
    s.add_argument("--sim", default=None)
    s.add_argument("--volume", default="", help="the simulation's volume (e.g. L25n256)")
    s.add_argument("--set", default="", help="the simulation's set (e.g. LH, 1P)")
    s.add_argument("--snap", default=None, type=int)


def _mock_commands(sub) -> None:
    """The mock's jobs (called by pipeline/rules/mock.smk)."""
    s = sub.add_parser("mock-params", help="write a mock suite's parameter file")
    s.add_argument("--suite", required=True)
    s.add_argument("--options", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_mock_params)

    s = sub.add_parser("mock-root", help="mark a directory as the mock's (data.root)")
    s.add_argument("--seed", required=True, type=int)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_mock_root)

    s = sub.add_parser("mock-sim", help="write one mock simulation's snapshots and catalogs")
    for arg in ("--suite", "--sim", "--params-file", "--options"):
        s.add_argument(arg, required=True)
    for arg in ("--snapshot-out", "--catalog-out", "--truth-out"):
        s.add_argument(arg, required=True, nargs="+")
    s.add_argument("--cache-dir", default=None,
                   help="folder shared by the mock's jobs for the halo mass function of each "
                        "cosmology and redshift (none: colossus computes it in every job)")
    s.set_defaults(func=cmd_mock_sim)


def _ingest_commands(sub) -> None:
    """The ingest and profile jobs (pipeline/rules/ingest.smk)."""
    s = sub.add_parser("ingest", help="measure per-halo properties of one snapshot")
    for arg in ("--snapshot", "--catalog"):  # the single file, or every chunk .0, .1, ...
        s.add_argument(arg, required=True, nargs="+")
    for arg in ("--options", "--out"):
        s.add_argument(arg, required=True)
    _add_source_arguments(s)
    s.add_argument("--params-file", nargs="*", default=None,
                   help="the suite's parameter file (none: no feedback-parameter columns)")
    s.add_argument("--profile-options", default=None,
                   help="the profile stage's options (JSON; or inside --options as "
                        "profile_options): also measure the stacked radial profiles in the same "
                        "pass, written into --out under the key radial_profiles")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("ingest-catalog",
                       help="rows of one group catalog (input kind catalog: no particles)")
    s.add_argument("--catalog", required=True, nargs="+", help="the single file, or every chunk")
    for arg in ("--options", "--out"):
        s.add_argument(arg, required=True)
    _add_source_arguments(s)
    s.add_argument("--columns", nargs="*", default=[],
                   help="the columns the study uses: their catalog fields must exist")
    s.set_defaults(func=cmd_ingest_catalog)

    s = sub.add_parser("ingest-stacks",
                       help="stacked gas-profile files of a block of simulations -> halo rows")
    for arg in ("--root", "--suite", "--options", "--out"):
        s.add_argument(arg, required=True)
    s.add_argument("--sims", required=True, nargs="+",
                   help="the block's simulations (ranges such as 1P_22..1P_65 allowed)")
    s.set_defaults(func=cmd_ingest_stacks)

    s = sub.add_parser("radial-profiles", help="stacked radial gas profiles of one snapshot (particles)")
    for arg in ("--snapshot", "--catalog"):
        s.add_argument(arg, required=True, nargs="+")
    for arg in ("--suite", "--sim", "--options", "--out"):
        s.add_argument(arg, required=True)
    s.add_argument("--snap", required=True, type=int)
    s.set_defaults(func=cmd_radial_profiles)

    s = sub.add_parser("assemble", help="join halo tables and apply the selection")
    s.add_argument("--inputs", required=True, nargs="+")
    s.add_argument("--params-files", nargs="*",
                   help="SUITE/VOLUME/SET=PATH: each simulation set's parameter file")
    s.add_argument("--options", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--profiles-out",
                   help="also join every input's stacked radial profiles into this table")
    s.add_argument("--threads", type=int, default=1,
                   help="2 or more: join the profiles in a second process beside the haloes")
    s.set_defaults(func=cmd_assemble)


def _discovery_commands(sub) -> None:
    """The rank, sr and evaluate jobs of one target (pipeline/rules/discovery.smk)."""
    for name, func, extra in (("rank", cmd_rank, []), ("sr", cmd_sr, ["--rank"]),
                              ("evaluate", cmd_evaluate, ["--sr", "--residuals", "--per-sim"])):
        s = sub.add_parser(name, help=f"{name} stage for one target")
        for arg in ["--halos", "--options"] + extra:
            s.add_argument(arg, required=True)
        if name == "sr":
            s.add_argument("--out", required=True, nargs="+", help="one table per --slope")
            s.add_argument("--slope", choices=("free", "fixed"), nargs="+", default=None,
                           help="fixed: keep the relation's x out of the correction (it enters "
                                "through the self-similar slope only); both: one search each, "
                                "run side by side on the job's threads (default: free)")
        else:
            s.add_argument("--out", required=True)
        if name == "evaluate":
            s.add_argument("--truth", nargs="*", default=[],
                           help="mock truth tables: adds the intrinsic noise floor")
            s.add_argument("--sr-alternative", default=None,
                           help="the SR table of the other slope constraint (evaluated beside)")
            s.add_argument("--relation", default=None,
                           help="write the chosen relation here as a relation file (JSON)")
        s.set_defaults(func=func)


def _report_commands(sub) -> None:
    """The report's jobs (pipeline/rules/report.smk)."""
    s = sub.add_parser("report-assets", help="one target's figures and tables for snakemake --report")
    for arg in ("--rank", "--sr", "--evaluate", "--residuals", "--per-sim", "--options", "--out-dir"):
        s.add_argument(arg, required=True)
    s.set_defaults(func=cmd_report_assets)

    s = sub.add_parser("report-profiles", help="the figure of the profile stage's stacks (SVG)")
    s.add_argument("--radial-profiles", required=True, help="the profile stage's joined table")
    s.add_argument("--options", required=True,
                   help='JSON: {"data": {"kind": ...}, "radial_profiles": {"reference_root": ...}}')
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_report_profiles)

    s = sub.add_parser("report", help="write the PDF report")
    s.add_argument("--halos", required=True)
    s.add_argument("--radial-profiles", nargs="*", default=[],
                   help="the profile stage's joined table (a figure of mock vs real profiles)")
    s.add_argument("--profiles-figure", nargs="*", default=[],
                   help="that figure, drawn by report-profiles (else drawn here)")
    for arg in ("--rank", "--sr", "--evaluate", "--residuals", "--per-sim"):
        s.add_argument(arg, required=True, nargs="+")
    s.add_argument("--options", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_report)


def build_job_parser() -> argparse.ArgumentParser:
    """The jobs' command line: one group of commands per stage's rule file."""
    p = argparse.ArgumentParser(
        prog="python -m pipeline.jobs",
        description="The workflow's jobs: one command per rule, each calling one stage function "
                    "(options as one JSON object, --options, built by the rule).")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="JOB")
    _mock_commands(sub)
    _ingest_commands(sub)
    _discovery_commands(sub)
    _report_commands(sub)
    return p


@functools.cache
def job_commands() -> frozenset[str]:
    """The names of the job commands."""
    parser = build_job_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return frozenset(action.choices)


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv`` with ``parser`` and run the command: log to stderr, a PipelineError as one
    line naming what is wrong (exit status 1), the time taken."""
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    t0 = time.perf_counter()
    try:
        args.func(args)
    except PipelineError as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    log.info("%s finished in %.1f s", args.command, time.perf_counter() - t0)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(build_job_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
