"""An LRU cache bounded by the summed cost (bytes) of its entries, safe across threads.

One piece for both caches of the server: the query answers (server/query_service.py) and the
responses replayed at the edge (server/replay.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """Least recently used dropped first; an entry over a quarter of the capacity is not kept.

    >>> cache = BoundedCache(400, cost=lambda key, value: len(key) + len(value))
    >>> for key in ("k0", "k1", "k2", "k3"):
    ...     cache.put(key, "x" * 98)
    >>> cache.get("k0")[:3]  # used: now the most recent
    'xxx'
    >>> cache.put("k4", "y" * 98)  # over capacity: k1, the least recently used, goes
    >>> [cache.get(k) is not None for k in ("k0", "k1", "k2", "k3")], cache.size
    ([True, False, True, True], 400)
    >>> cache.put("k5", "z" * 99)  # one huge entry must not flush everything else
    >>> len(cache)
    4
    """

    def __init__(self, capacity: int, cost: Callable[[K, V], int]) -> None:
        self.capacity = capacity
        self.size = 0
        self._cost = cost
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        cost = self._cost(key, value)
        if cost > self.capacity // 4:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.size -= self._cost(key, previous)
            self._entries[key] = value
            self.size += cost
            while self.size > self.capacity:
                old_key, old = self._entries.popitem(last=False)
                self.size -= self._cost(old_key, old)

    def __len__(self) -> int:
        return len(self._entries)
