"""The PDF report of a study."""

#: Per-target files of ``snakemake --report`` (figures as SVG, tables as CSV); kept here, free of
#: plotting imports, because the workflow reads it while building the DAG.
ASSET_FILES = ("importance.svg", "pareto.svg", "scatter_refit.svg", "scatter_frozen.svg",
               "residuals.svg", "ranking.csv", "front.csv", "scatter.csv")
