"""Two command lines: a user's (``scaling-pipeline``: run, check-config, apply, --version) and
the workflow's jobs (``python -m pipeline.jobs``: one command per rule). The rules' ``python -m
pipeline.cli <job>`` reaches the job."""

import pytest
from conftest import REPO

import pipeline
from pipeline.cli import build_parser
from pipeline.cli import main as cli_main
from pipeline.jobs import build_job_parser, job_commands


def _commands(parser) -> set[str]:
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return set(action.choices)


def test_a_user_sees_the_user_commands_and_the_jobs_are_their_own():
    assert _commands(build_parser()) == {"run", "check-config", "apply"}
    jobs = job_commands()
    assert {"ingest", "ingest-catalog", "ingest-stacks", "assemble", "rank", "sr", "evaluate",
            "report", "mock-sim"} <= jobs
    assert not jobs & _commands(build_parser()) and jobs == _commands(build_job_parser())


def test_every_job_the_rules_call_exists():
    """Each ``{cli} <job>`` of a rule file is a job command (a renamed job fails here, not in
    the middle of a study)."""
    import re

    called = set()
    for path in (REPO / "pipeline" / "rules").rglob("*.smk"):
        called |= set(re.findall(r"\{(?:params\.cli|CLI_IN_SHELL)\}\}? ([a-z][a-z-]+) ",
                                 path.read_text()))
    assert len(called) >= 10, called
    assert called <= job_commands(), called - job_commands()


def test_the_user_command_line_hands_a_job_over(capsys):
    """``python -m pipeline.cli <job>`` (the rules' command) parses as the job: its own errors."""
    with pytest.raises(SystemExit):
        cli_main(["rank", "--help"])
    assert "--halos" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["--version"])
    assert pipeline.__version__ in capsys.readouterr().out
