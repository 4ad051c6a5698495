"""A pause of Python's cyclic garbage collector over calls that build many
objects.

Ranking 2,000 needs builds some 200,000 small objects (matches, reasons,
n-gram lists) and frees no reference cycles, yet the collector walks the
young objects a few hundred times per call and every live object once or
twice: 0.1-0.2 s of a warm call of 1.5 s on the speed data, more in a web
process that holds many other objects (`bench/README.md`). Reference
counting still frees everything as it goes; collection resumes when the call
returns or raises.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Within the block (or the decorated function), no automatic cyclic
    collection. A collector the caller had turned off stays off; one that was
    on is on again afterwards, also after an exception. Process-wide: another
    thread's allocations are not collected meanwhile either."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
