"""Discovery stage (``rules/discovery.smk``): the assembled halo table -> relations and scores.

Per target (:mod:`.dataset` selects its rows and columns): :mod:`.rank` ranks the features that
explain the deviation from the self-similar relation, :mod:`.sr` writes the top ones as a closed
form, :mod:`.evaluate` measures its scatter on held-out suites against the baseline and (mock) the
noise floor of :mod:`.noise_floor`.

The chosen relation of each target leaves the pipeline as a file (:mod:`.relation_file`):
``from pipeline.discovery import load_relation``.
"""

__all__ = ["load_relation"]


def __getattr__(name: str):
    # lazy: importing the stage package should not pull in sympy and scikit-learn
    if name == "load_relation":
        from .relation_file import load_relation

        return load_relation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
