"""Small helpers of Typst markup for the report: labels from arbitrary names, text that cannot
break the markup, and the compact form of long simulation lists.

The report's tables, figures and prose are laid out by the templates (``templates/``), which set
data given as strings literally; :func:`lit` escapes text for the rare place where user-supplied
text is written into markup itself (every character with a meaning in Typst markup gets a
backslash).
"""

from __future__ import annotations

import re

from ..samples import compact_names

__all__ = ["lit", "label_name", "compact_names"]


_SPECIAL = set('\\#*_$@<>[]`~/=-+"\'')


def lit(value: object) -> str:
    """``value`` as literal text in Typst markup (special characters escaped, newlines as
    spaces, a leading ``12.`` not read as a numbered list)."""
    text = " ".join(str(value).splitlines())
    out = "".join("\\" + c if c in _SPECIAL else c for c in text)
    return re.sub(r"^(\d+)\.", r"\1\\.", out)


def label_name(*parts: str) -> str:
    """A Typst label from arbitrary parts (letters, digits, ``-``, ``_``, ``.`` only)."""
    return "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "-", p).strip("-") for p in parts)
