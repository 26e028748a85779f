"""The column registry is computational: a derived column's row holds how it is computed and
how it is typeset, so a new one is one row (and a test)."""

import numpy as np
from astropy import units as u
from astropy.table import Table

from pipeline.columns import DERIVED_BY_ASSEMBLE, DERIVED_COLUMNS, HALO_COLUMNS, HI_COLUMNS
from pipeline.columns.symbols import LATEX_SYMBOLS, TYPST_SYMBOLS
from pipeline.ingest.assemble import add_derived_columns


def _halos() -> Table:
    return Table({"M200c": [1e13, 1e14] * u.Msun, "M500c": [7e12, 7e13] * u.Msun,
                  "Y200c": [1e-6, 2e-5] * u.Mpc**2, "Y500c": [6e-7, 1.2e-5] * u.Mpc**2,
                  "Mgas200c": [1e12, 1.5e13] * u.Msun, "Mstar200c": [2e11, 1e12] * u.Msun,
                  "T_mw200c": [1e7, 4e7] * u.K, "Ez": [1.0, 1.3], "f_b": [0.16, 0.16]})


def test_every_derived_row_says_how_it_is_computed_from_registry_columns():
    known = {c.name for c in HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS}
    assert {c.name for c in DERIVED_BY_ASSEMBLE} >= {"log10_M200c", "log10_Y200c_ss",
                                                      "log10_Y200c_ss_over_fb"}
    for column in DERIVED_BY_ASSEMBLE:
        assert column.inputs and set(column.inputs) <= known, column.name
    table = add_derived_columns(_halos())
    ez = np.array([1.0, 1.3])
    np.testing.assert_allclose(table["log10_Y200c_ss"], np.log10([1e-6, 2e-5] * ez ** (-2 / 3)))
    np.testing.assert_allclose(table["log10_Mgas200c_over_fb"], np.log10([1e12, 1.5e13]) - np.log10(0.16))
    np.testing.assert_allclose(table["f_gas200c_over_fb"], np.array([0.1, 0.15]) / 0.16)
    np.testing.assert_allclose(table["Mstar_over_Mgas"], [0.2, 1 / 15])
    # the registry's order: a column reading another derived one comes after it
    order = [c.name for c in DERIVED_BY_ASSEMBLE]
    for column in DERIVED_BY_ASSEMBLE:
        for name in column.inputs:
            if name in order:
                assert order.index(name) < order.index(column.name), (column.name, name)


def test_a_row_s_symbol_reaches_both_writers():
    for column in HALO_COLUMNS + DERIVED_COLUMNS + HI_COLUMNS:
        if column.symbol is not None:
            assert LATEX_SYMBOLS[column.name] == column.symbol.latex
            assert TYPST_SYMBOLS[column.name] == column.symbol.typst
