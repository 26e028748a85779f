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


def test_reused_chunk_buffers_hold_each_chunk_until_its_consumer_is_done(tmp_path):
    """Chunks read into a ring of buffer sets behind the read-ahead thread: a slow consumer
    (the reader runs ahead while it works) still sees every chunk intact to the end of its
    work, equal to new arrays, across chunk files and MassTable masses; and the buffers are
    reused, chunk k's arrays being chunk k + 3's."""
    import numpy as np
    from conftest import write_sphere_halo

    from pipeline.io.gadget import Snapshot

    snap = Snapshot(write_sphere_halo(tmp_path, n_files=3, seed=4)[0])
    for ptype, fields in ((0, ["Coordinates", "Masses", "InternalEnergy"]),
                          (1, ["Coordinates", "Masses"])):
        fresh = [{k: v.copy() for k, v in c.items()} for c in snap.iter_fields(ptype, fields, 997)]
        assert len(fresh) >= 6
        seen = []
        for i, chunk in enumerate(snap.stream_fields(ptype, fields, 997)):
            time.sleep(0.01)  # the reader fills the next chunks meanwhile
            for k in fields:
                np.testing.assert_array_equal(chunk[k], fresh[i][k])
            seen.append(chunk)
        assert len(seen) == len(fresh)
        shared = [np.shares_memory(seen[i]["Coordinates"], seen[i + 3]["Coordinates"])
                  for i in range(len(seen) - 3)]
        assert any(shared)
