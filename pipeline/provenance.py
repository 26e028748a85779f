"""Provenance recorded in every output: package versions, config hash, seeds, git commit."""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["package_versions", "config_hash", "git_commit", "provenance"]

_PACKAGES = [
    "scaling-relations-pipeline", "numpy", "scipy", "h5py", "astropy", "scikit-learn",
    "snakemake", "pyoperon", "sympy", "matplotlib", "colossus", "typst", "pysr",
]


def package_versions() -> dict[str, str]:
    """Installed versions of the packages whose behaviour shapes the results."""
    return dict(_versions())


# looked up once per process: reading package metadata costs ~15 ms, and a loop over thousands of
# catalogs (bench/catalog.py) or haloes would pay it each time; installs do not change mid-run
@functools.lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for name in _PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(out)


def config_hash(config: dict) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON form of ``config``."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@functools.cache
def git_commit(path: str | Path = ".") -> str:
    """The git commit of the pipeline's source tree, or 'unknown' outside a repository (looked
    up once per process)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(stage: str, options: dict | None = None, seeds: dict | None = None) -> dict:
    """Metadata block stored with a stage's output table."""
    return {
        "stage": stage,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "options": options or {},
        "options_hash": config_hash(options or {}),
        "seeds": seeds or {},
    }
