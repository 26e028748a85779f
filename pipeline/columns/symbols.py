"""How columns are typeset: one table for the LaTeX of the figures (matplotlib mathtext) and the
Typst math of the report, so the two cannot disagree.

A column without an entry is typeset as its upright name by each writer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Symbol", "SYMBOLS", "LATEX_SYMBOLS", "TYPST_SYMBOLS"]


@dataclass(frozen=True)
class Symbol:
    latex: str  # mathtext / LaTeX math
    typst: str  # Typst math


SYMBOLS: dict[str, Symbol] = {
    "log10_Y200c_ss": Symbol(r"\log_{10}\tilde{Y}_{200c}", "log_10 tilde(Y)_(200c)"),
    "log10_Y500c_ss": Symbol(r"\log_{10}\tilde{Y}_{500c}", "log_10 tilde(Y)_(500c)"),
    "log10_M200c": Symbol(r"\log_{10}M_{200c}", "log_10 M_(200c)"),
    "log10_M500c": Symbol(r"\log_{10}M_{500c}", "log_10 M_(500c)"),
    "log10_Mgas200c": Symbol(r"\log_{10}M_{\rm gas}", 'log_10 M_"gas"'),
    "M200c": Symbol(r"M_{200c}", "M_(200c)"),
    "Y200c": Symbol(r"Y_{200c}", "Y_(200c)"),
    "c_gas": Symbol(r"c_{\rm gas}", 'c_"gas"'),
    "c_NFW": Symbol(r"c_{\rm NFW}", 'c_"NFW"'),
    "Mstar_over_Mgas": Symbol(r"M_{\star}/M_{\rm gas}", 'M_* \\/ M_"gas"'),
    "log10_Mstar_over_Mgas": Symbol(r"\log_{10}(M_{\star}/M_{\rm gas})", 'log_10(M_* \\/ M_"gas")'),
    "Z_mw200c": Symbol(r"Z_{\rm mw}", 'Z_"mw"'),
    "T_mw200c": Symbol(r"T_{\rm mw}", 'T_"mw"'),
    "f_gas200c": Symbol(r"f_{\rm gas}", 'f_"gas"'),
    "log10_T_mw_ss": Symbol(r"\log_{10}\tilde{T}_{\rm mw}", 'log_10 tilde(T)_"mw"'),
    "Y500c_over_Y200c": Symbol(r"Y_{500c}/Y_{200c}", "Y_(500c) \\/ Y_(200c)"),
    "redshift": Symbol("z", "z"),
    "A_SN1": Symbol(r"A_{\rm SN1}", 'A_"SN1"'),
    "A_SN2": Symbol(r"A_{\rm SN2}", 'A_"SN2"'),
    "A_AGN1": Symbol(r"A_{\rm AGN1}", 'A_"AGN1"'),
    "A_AGN2": Symbol(r"A_{\rm AGN2}", 'A_"AGN2"'),
    "Omega_m": Symbol(r"\Omega_{\rm m}", "Omega_m"),
    "Omega_b": Symbol(r"\Omega_{\rm b}", "Omega_b"),
    "f_b": Symbol(r"f_{\rm b}", 'f_"b"'),
    # catalog rows (pipeline/ingest/catalog.py)
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
    "log10_MHI200c": Symbol(r"\log_{10}M_{\rm HI}", 'log_10 M_"HI"'),
    "sigma_8": Symbol(r"\sigma_8", "sigma_8"),
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
