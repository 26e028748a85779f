"""``python -m pipeline.columns > docs/columns.md``: the column reference of the docs."""

from . import _CATALOG_HEADER, _DOC_HEADER, catalog_table_markdown, column_table_markdown

print(_DOC_HEADER + column_table_markdown() + _CATALOG_HEADER + catalog_table_markdown())
