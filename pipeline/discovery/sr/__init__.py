"""Symbolic regression: one interface (:func:`pipeline.discovery.sr.search.discover`), two engines.

``operon`` (pyoperon, default) runs wherever pip does; ``pysr`` needs a Julia installation.
Both return candidate expressions as strings that :mod:`pipeline.discovery.sr.expressions` parses into
sympy, so that the Pareto table, the report and the evaluation never depend on one engine.
"""
