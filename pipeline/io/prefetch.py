"""Read the next chunk while the current one is processed.

h5py holds the GIL while it reads, and the compiled aperture kernels release it, so a reader
thread one chunk ahead overlaps I/O with computation. Memory: at most ``depth`` + 1 chunks alive
(the one being processed, and ``depth`` read ahead).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["buffers_behind", "prefetch"]

T = TypeVar("T")
_DONE = object()


def buffers_behind(depth: int = 1) -> int:
    """Buffer sets a chunk reader behind :func:`prefetch` of ``depth`` must cycle through (see
    ``Snapshot.iter_fields(buffers=)``): the consumer's chunk, ``depth`` queued, one being read."""
    return int(depth) + 2


def prefetch(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``items`` with a background thread producing up to ``depth`` items ahead.

    An exception raised by ``items`` is re-raised here, at the position it occurred. Stopping
    early (break, an exception in the consumer) stops the reader after its current item.
    """
    if depth < 1:
        yield from items
        return
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
            q.put((_DONE, exc))

    reader = threading.Thread(target=produce, name="prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item, exc = q.get()
            if item is _DONE:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            reader.join(timeout=0.05)
