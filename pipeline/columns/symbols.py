"""How columns are typeset: one table for the LaTeX of the figures (matplotlib mathtext) and the
Typst math of the report, so the two cannot disagree.

A column without an entry is typeset as its upright name by each writer.
"""

from __future__ import annotations

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
    "sigma_8": Symbol(r"\sigma_8", "sigma_8"),
}

#: the two views of :data:`SYMBOLS` the writers use
LATEX_SYMBOLS = {name: s.latex for name, s in SYMBOLS.items()}
TYPST_SYMBOLS = {name: s.typst for name, s in SYMBOLS.items()}
