"""The evaluation's definitions in one text, taken from the docstrings of the modules that
implement them (:mod:`.metrics`, :mod:`.relations`, :mod:`.evaluate`, :mod:`.folds`; for the
docs also :mod:`.coverage`, :mod:`.identifying`, :mod:`.sr.engine`, :mod:`.sr.conditioning`,
:mod:`.sr.rewrites`, :mod:`.counts`), so that
the report's Definitions page and ``docs/evaluation.md`` cannot drift from the code.

``python -m pipeline.discovery.definitions > docs/evaluation.md`` writes the docs page (a test
keeps it in sync).
"""

from __future__ import annotations

import textwrap

from . import counts, coverage, evaluate, folds, identifying, metrics, relations
from .sr import conditioning, engine, rewrites

__all__ = ["definitions_text", "definitions_markdown"]

_SECTIONS = (("Metrics and intervals", metrics), ("Relations compared", relations),
             ("Evaluation", evaluate), ("Cross-validation folds", folds))
#: in the docs page only (the report states each where it applies, to stay short)
_DOCS_SECTIONS = (("Parameter coverage of held-out samples", coverage),
                  ("Sample-identifying features", identifying),
                  ("The same equations on any machine", engine),
                  ("Closed forms that hold off the training code", conditioning),
                  ("Readable equations", rewrites),
                  ("Count targets (galaxies per group)", counts))


def definitions_text() -> str:
    """Plain text of every section (for the report)."""
    return "\n\n".join(f"{title.upper()}\n\n{textwrap.dedent(module.__doc__ or '').strip()}"
                       for title, module in _SECTIONS)


def definitions_markdown() -> str:
    """The docs page: one section per module docstring."""
    header = ("# How relations are evaluated\n\n"
              "Generated from the docstrings of `pipeline/discovery/` by "
              "`python -m pipeline.discovery.definitions > docs/evaluation.md` (a test keeps this "
              "file in sync); the report's Definitions page shows the first four sections, and "
              "states the others where they apply.\n")
    body = "\n".join(f"\n## {title}\n\n{textwrap.dedent(module.__doc__ or '').strip()}\n"
                     for title, module in _SECTIONS + _DOCS_SECTIONS)
    return header + body


if __name__ == "__main__":
    print(definitions_markdown(), end="")
