"""How columns are typeset: LaTeX for the figures (matplotlib mathtext) and Typst math for the
report, from one source so the two cannot disagree: each registry row's ``symbol``
(:mod:`pipeline.columns`), the catalog rows' table below and the column families named by a
study's parameters (environment radii, galaxy-count thresholds).

A column without a symbol is typeset as its upright name by each writer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from . import DERIVED_COLUMNS, HALO_COLUMNS, HI_COLUMNS, Symbol

__all__ = ["Symbol", "SYMBOLS", "LATEX_SYMBOLS", "TYPST_SYMBOLS"]


#: the symbols of the columns other than the registry's own rows (which carry theirs,
#: :class:`pipeline.columns.Column`): the catalog rows'
_CATALOG_SYMBOLS: dict[str, Symbol] = {
    "log10_Mtot": Symbol(r"\log_{10}M_{\rm tot}", 'log_10 M_"tot"'),
    "log10_M_virial": Symbol(r"\log_{10}M_{\rm vir}", 'log_10 M_"vir"'),
    "Mstar_over_M_virial": Symbol(r"M_{\star}/M_{\rm vir}", 'M_* \\/ M_"vir"'),
    "log10_Vmax": Symbol(r"\log_{10}V_{\rm max}", 'log_10 V_"max"'),
    "Vmax_over_V200c": Symbol(r"V_{\rm max}/V_{200c}", 'V_"max" \\/ V_(200c)'),
    "log10_Rhalf": Symbol(r"\log_{10}R_{1/2}", "log_10 R_(1\\/2)"),
    "log10_Rhalf_star": Symbol(r"\log_{10}R_{1/2,\star}", "log_10 R_(1\\/2,*)"),
    "r_host_r200c": Symbol(r"r/R_{200c}^{\rm host}", 'r \\/ R_(200c)^"host"'),
    "is_central": Symbol(r"{\rm central}", '"central"'),
    "log10_host_M200c": Symbol(r"\log_{10}M_{200c}^{\rm host}", 'log_10 M_(200c)^"host"'),
    "d_more_massive_r200c": Symbol(r"d_{\rm heavier}/R_{200c}", 'd_"heavier" \\/ R_(200c)'),
}

#: every column's symbol by name: the registry rows' and the catalog rows'
SYMBOLS: dict[str, Symbol] = {
    **{c.name: c.symbol for c in HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS if c.symbol},
    **_CATALOG_SYMBOLS,
}


def _patterned(name: str) -> Symbol | None:
    """Symbols of the column families whose names carry a parameter of the study (environment
    radii, galaxy-count thresholds)."""
    m = re.fullmatch(r"overdensity_(\d+(?:p\d+)?)mpc", name)
    if m:
        r = m.group(1).replace("p", ".")
        return Symbol(rf"\delta_{{{r}\,{{\rm Mpc}}}}", f'delta_({r} "Mpc")')
    m = re.fullmatch(r"n_neighbours_(\d+(?:p\d+)?)mpc", name)
    if m:
        r = m.group(1).replace("p", ".")
        return Symbol(rf"N_{{<{r}\,{{\rm Mpc}}}}", f'N_(< {r} "Mpc")')
    if re.fullmatch(r"log10_1p_N_sat\w*", name):
        return Symbol(r"\log_{10}(1+N_{\rm sat})", 'log_10(1 + N_"sat")')
    return None


class _View(Mapping):
    """One writer's view of the symbols (LaTeX or Typst): the table, then the families."""

    def __init__(self, attribute: str):
        self._attribute = attribute

    def __getitem__(self, name: str) -> str:
        symbol = SYMBOLS.get(name) or _patterned(name)
        if symbol is None:
            raise KeyError(name)
        return getattr(symbol, self._attribute)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in SYMBOLS or _patterned(name) is not None)

    def __iter__(self):
        return iter(SYMBOLS)

    def __len__(self) -> int:
        return len(SYMBOLS)


#: the two views of :data:`SYMBOLS` the writers use
LATEX_SYMBOLS: Mapping[str, str] = _View("latex")
TYPST_SYMBOLS: Mapping[str, str] = _View("typst")
