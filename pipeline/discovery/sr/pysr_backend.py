"""PySR engine (optional extra ``[pysr]``): needs a Julia installation.

On an HPC system with Julia installed, point ``PYTHON_JULIAPKG_EXE`` at it (and the Julia depot at
scratch space) so that juliacall does not try to download one, then set ``sr.backend: pysr``.
"""

from __future__ import annotations

import os
import shutil

import numpy as np

from ...errors import BackendUnavailableError

__all__ = ["check_pysr_available", "pysr_options", "fit_pysr", "read_pysr_equations"]

_UNARY = {"log", "log1p", "exp", "sqrt", "abs", "sin", "cos", "tanh", "square", "cube"}
_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def pysr_options(options, seed: int) -> dict:
    """Map the pipeline's SR options onto PySRRegressor keyword arguments."""
    symbols = [s.strip() for s in options.allowed_symbols.split(",")]
    unknown = [s for s in symbols if s not in _UNARY and s not in _BINARY
               and s not in ("constant", "variable")]
    if unknown:
        raise ValueError(f"sr.allowed_symbols has symbol(s) {unknown} that PySR cannot map")
    return {
        "binary_operators": [_BINARY[s] for s in symbols if s in _BINARY],
        "unary_operators": [s for s in symbols if s in _UNARY],
        "maxsize": options.max_length,
        "niterations": options.generations,
        "population_size": options.population_size,
        "timeout_in_seconds": options.time_budget_s,
        "random_state": seed,
        # reproducible for a seed only when serial (PySR's rule); threads are used otherwise
        "deterministic": options.threads <= 1,
        "parallelism": "serial" if options.threads <= 1 else "multithreading",
        **({"procs": options.threads} if options.threads > 1 else {}),
        "progress": False,
    }


def check_pysr_available() -> None:
    """Raise BackendUnavailableError, saying how to fix it, unless PySR and Julia can run."""
    try:
        import pysr  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            "sr.backend is 'pysr' but PySR is not installed: pip install -e '.[pysr]' "
            "(or use sr.backend: operon)"
        ) from exc
    julia = os.environ.get("PYTHON_JULIAPKG_EXE") or shutil.which("julia")
    if not julia:
        raise BackendUnavailableError(
            "sr.backend is 'pysr' but no Julia executable was found: install Julia and set "
            "PYTHON_JULIAPKG_EXE to it (juliacall would otherwise try to download one), "
            "or use sr.backend: operon"
        )


def read_pysr_equations(source) -> list[dict]:
    """PySR's equations as ``[{"complexity", "loss", "equation"}]`` sorted by complexity, from
    ``PySRRegressor.equations_`` (a DataFrame with lower-case columns) or from the hall-of-fame
    CSV PySR writes next to a run (``Complexity,Loss,Equation``; path or DataFrame). Equation
    strings are in PySR's syntax (``^`` for powers, ``square``/``cube``), which
    :func:`pipeline.discovery.sr.expressions.parse_expression` reads."""
    import pandas as pd

    frame = source if isinstance(source, pd.DataFrame) else pd.read_csv(source)
    columns = {c.lower(): c for c in frame.columns}
    missing = [c for c in ("complexity", "loss", "equation") if c not in columns]
    if missing:
        raise ValueError(f"PySR equation table lacks column(s) {missing}; has {list(frame.columns)}")
    rows = [
        {"complexity": int(r[columns["complexity"]]), "loss": float(r[columns["loss"]]),
         "equation": str(r[columns["equation"]])}
        for _, r in frame.iterrows()
    ]
    return sorted(rows, key=lambda r: r["complexity"])


def fit_pysr(x: np.ndarray, y: np.ndarray, options, seed: int) -> tuple[list[str], int, int]:
    """Run PySR: its hall-of-fame expressions over ``x0 .. x{k-1}``, the iterations run (PySR
    stops on ``niterations`` = ``sr.generations`` unless its timeout ends it first) and 0 for the
    evaluations (PySR counts none that it reports)."""
    check_pysr_available()
    from pysr import PySRRegressor

    model = PySRRegressor(**pysr_options(options, seed))
    model.fit(x, y, variable_names=[f"x{i}" for i in range(x.shape[1])])
    iterations = int(getattr(model, "niterations", options.generations))
    return ([r["equation"] for r in read_pysr_equations(model.equations_)], iterations, 0)
