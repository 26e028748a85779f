"""The SR table's metadata is a typed contract (:class:`pipeline.discovery.sr.record.SRMeta`):
every key the stage writes is a documented field, and the readers get typed values."""

import math

import numpy as np
from conftest import BY_HALO

from pipeline.discovery.sr.record import Constant, SRMeta
from pipeline.discovery.sr.search import SROptions, discover
from pipeline.discovery.sr.stage import slope_note


def _sr_table():
    rng = np.random.default_rng(4)
    n = 300
    s, c = rng.uniform(0.1, 2.0, n), rng.uniform(0.3, 0.7, n)
    y = 0.3 * np.log(1 + s) - 0.2 * c + 0.01 * rng.normal(size=n)
    table = discover(np.column_stack([s, c]), y, ["s", "c"],
                     SROptions(**BY_HALO, generations=5, population_size=60, seeds=[0],
                               max_evaluations=4000))
    table.meta["slope"] = slope_note(True)
    table.meta["target"] = {"name": "t", "y": "y", "x": "x", "slope": 0.6}
    return table


def test_every_key_the_stage_writes_is_a_field_and_every_field_is_written():
    table = _sr_table()
    assert set(table.meta) == set(SRMeta.keys()), set(table.meta) ^ set(SRMeta.keys())
    meta = SRMeta.from_meta(table.meta)
    assert meta.chosen == table.meta["chosen"] and meta.features == ("s", "c")
    assert all(isinstance(k, Constant) for k in meta.constants)
    assert [c.name for c in meta.constants] == [c["name"] for c in table.meta["constants"]]
    assert len(meta.constants_covariance) == len(meta.constants)
    assert meta.recommended == table.meta["verdict"]["recommended"]
    assert meta.slope.startswith("fixed") and meta.max_cancellation == 10


def test_an_older_table_reads_with_defaults_and_constants_know_if_they_are_determined():
    old = SRMeta.from_meta({"chosen": "0.1*s", "features": ["s"], "unknown_key": 1,
                            "constants": [{"name": "c_0", "value": 0.5, "error": 0.6},
                                          {"name": "c_1", "value": 2.0, "error": 0.1},
                                          {"name": "c_2", "value": 1.0, "error": math.nan}]})
    assert old.validation_simulations == () and old.choice_data == "split" and old.recommended
    assert old.undetermined == ("c_0", "c_2")
