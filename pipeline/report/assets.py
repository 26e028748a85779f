"""One target's figures (SVG) and tables (CSV) as separate files, for ``snakemake --report``.

The PDF report (:mod:`pipeline.report.build`) holds the same figures; Snakemake's HTML report
needs them as files, each with its caption (``pipeline/report/captions/*.rst``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from astropy.table import Table  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..io.atomic import atomic_path  # noqa: E402
from ..io.tables import read_table  # noqa: E402
from . import ASSET_FILES  # noqa: E402
from .figures import (  # noqa: E402
    evaluation_figure,
    importance_figure,
    pareto_figure,
    per_simulation_figure,
    residual_parameter_figure,
    save_svg,
)

__all__ = ["ASSET_FILES", "write_target_assets"]


def _save_csv(table: Table, path: Path) -> None:
    flat = Table({c: table[c] for c in table.colnames if table[c].ndim == 1})
    with atomic_path(path) as tmp:
        flat.write(tmp, format="ascii.csv", overwrite=True)


def _note_figure(text: str) -> Figure:
    fig = Figure(figsize=(6, 1.5))
    fig.text(0.5, 0.5, text, ha="center", fontsize=9)
    return fig


def write_target_assets(out_dir: str | Path, target: str, rank_path: str, sr_path: str,
                        evaluate_path: str, residuals_path: str, per_sim_path: str,
                        suites: list[str]) -> None:
    """Write :data:`ASSET_FILES` for ``target`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rank, sr = read_table(rank_path), read_table(sr_path)
    ev, resid, per_sim = read_table(evaluate_path), read_table(residuals_path), read_table(per_sim_path)
    save_svg(importance_figure(rank, f"Feature ranking — {target}"), out / "importance.svg")
    save_svg(pareto_figure(sr, f"Pareto front — {target}"), out / "pareto.svg")
    save_svg(evaluation_figure(ev, suites), out / "evaluation.svg")
    # a figure that would be empty says why instead: every asset file exists for every study
    fig = per_simulation_figure(per_sim, ev, suites, f"Reduction per simulation — {target}")
    save_svg(fig or _note_figure("No simulation has enough haloes for a per-simulation scatter "
                                 "(per_sim_table.csv holds the rms per simulation)."),
             out / "per_sim.svg")
    fig = residual_parameter_figure(resid, suites, f"Residuals vs simulation parameters — {target}")
    save_svg(fig or _note_figure("No simulation parameter varies in this study."),
             out / "residuals.svg")
    _save_csv(rank, out / "ranking.csv")
    front = sr.copy()
    front["expression"] = [str(e) for e in front["expression"]]
    _save_csv(front[[c for c in front.colnames if c != "latex"]], out / "front.csv")
    keep = [c for c in ev.colnames if not np.issubdtype(ev[c].dtype, np.object_)]
    _save_csv(ev[keep], out / "scatter.csv")
    _save_csv(per_sim, out / "per_sim_table.csv")
