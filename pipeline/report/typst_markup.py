"""Small builders of Typst markup for the report: text that cannot break the markup, tables,
figures with labels, and the compact form of long simulation lists.

User-supplied text (suite and simulation names, expressions, config values) is always escaped
(:func:`lit`: every character with a meaning in Typst markup gets a backslash), so that it reads
as itself wherever it is placed; the report's own prose is written to need no escaping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..samples import compact_names

__all__ = ["lit", "label_name", "table", "figure", "compact_names"]


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


def table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str, label: str,
          align: str = "auto", size: str = "8.5pt", columns: Sequence[str] | None = None) -> str:
    """A numbered table (``figure`` of kind table): ``header`` and ``rows`` are markup already
    (use :func:`lit` for data), ``caption`` markup, ``label`` a :func:`label_name`. Rows break
    across pages; the header repeats."""
    n = len(header)
    widths = ", ".join(columns) if columns else ", ".join(["auto"] * n)
    cells = ["table.header(" + ", ".join(f"[*{h}*]" for h in header) + ")"]
    cells += ["[" + c + "]" for row in rows for c in row]
    body = ",\n    ".join(cells)
    return (f"#figure(\n  text(size: {size}, table(columns: ({widths},), align: {align}, "
            f"stroke: none, inset: (x: 4pt, y: 2.5pt),\n    table.hline(),\n    {body},\n    "
            f"table.hline())),\n  caption: [{caption}],\n  kind: table,\n) <{label}>\n")


def figure(path: str, caption: str, label: str, width: str = "100%") -> str:
    """A numbered figure of the image at ``path`` (relative to the document), floating to the
    top or bottom of a page (as in a journal) so that a figure too tall for the rest of a page
    does not leave that rest blank."""
    return (f'#figure(image("{path}", width: {width}), caption: [{caption}], '
            f'placement: auto) <{label}>\n')
