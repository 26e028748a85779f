"""Sphinx configuration of the documentation site (MyST Markdown).

Build: ``pip install -e '.[docs]' && sphinx-build -W --keep-going -b html docs docs/_build/html``
(warnings are errors: a broken link within the site fails the build). The configuration reference
is generated from the schema at every build (``_generated/``, not in git).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import __version__  # noqa: E402
from pipeline.defaults import config_reference_markdown  # noqa: E402

project = "scaling-relations-pipeline"
author = "The scaling-relations-pipeline developers"
copyright = "2026, " + author
release = version = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# results/: the snapshots and notes docs/results.md is generated from (pipeline.report.results_page)
exclude_patterns = ["_build", "tutorial_files", "results"]
html_theme = "alabaster"
html_theme_options = {"description": "Discover low-scatter scaling relations in simulations",
                      "fixed_sidebar": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
suppress_warnings = ["myst.xref_ambiguous"]

_generated = Path(__file__).resolve().parent / "_generated"
_generated.mkdir(exist_ok=True)
_reference = _generated / "configuration_reference.md"
_text = config_reference_markdown() + "\n"
if not _reference.exists() or _reference.read_text() != _text:  # unchanged: no rebuild
    _reference.write_text(_text)
