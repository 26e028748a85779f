"""The read-ahead iterator used to overlap h5py reads with the compiled kernels."""

import threading
import time

import pytest

from pipeline.io.prefetch import prefetch


def test_prefetch_yields_every_item_in_order():
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))
    assert list(prefetch(range(5), depth=0)) == list(range(5))


def test_prefetch_reraises_the_readers_error_at_its_position():
    def items():
        yield 1
        yield 2
        raise OSError("truncated file x.hdf5: dataset 'PartType0/Masses'")

    got = []
    with pytest.raises(OSError, match="PartType0/Masses"):
        for item in prefetch(items()):
            got.append(item)
    assert got == [1, 2]


def test_prefetch_reads_ahead_and_stops_when_the_consumer_stops():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    before = threading.active_count()
    for item in prefetch(items(), depth=1):
        if item == 0:
            time.sleep(0.2)  # the reader runs ahead meanwhile, by at most depth + 1 items
            assert 1 <= len(produced) <= 3
        if item == 3:
            break
    time.sleep(0.1)
    assert threading.active_count() == before
    assert len(produced) <= 6
