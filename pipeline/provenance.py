"""Provenance recorded in every output: package versions, config hash, seeds, git commit."""

from __future__ import annotations

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
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def config_hash(config: dict) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON form of ``config``."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def git_commit(path: str | Path = ".") -> str:
    """The git commit of the pipeline's source tree, or 'unknown' outside a repository."""
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
