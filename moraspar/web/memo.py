"""A bounded, thread-safe memo of the least recently used entries, one per
worker process: the rendered fragments (`moraspar.web.fragments`) and the
cached pages (`moraspar.web.pagecache`) are kept in one each."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """At most `size` entries (0 keeps nothing); the least recently used
    goes first. Counts its hits and misses."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, fresh: Callable[[V], bool] | None = None) -> V | None:
        """The entry, or None; an entry that `fresh` refuses is dropped."""
        with self._lock:
            value = self._items.get(key)
            if value is not None and fresh is not None and not fresh(value):
                del self._items[key]
                value = None
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
