"""Report stage (``rules/report.smk``): every stage's tables -> the PDF report of a study, and
per target the figures (SVG) and tables (CSV) of ``snakemake --report``."""

#: Per-target files of ``snakemake --report`` (figures as SVG, tables as CSV); kept here, free of
#: plotting imports, because the workflow reads it while building the DAG.
ASSET_FILES = ("importance.svg", "pareto.svg", "evaluation.svg", "per_sim.svg", "residuals.svg",
               "ranking.csv", "front.csv", "scatter.csv", "per_sim_table.csv")
