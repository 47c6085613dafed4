"""``Lazy(make)``: an object made at its first use, once, whichever thread asks first.

The provider emulators register their webhook adapters and inbound routers at start-up, but
most sandboxes never send through most providers: making those objects imports the modules
that format events and route mail, ~2 MiB of the idle process (bench/README.md, "Idle RSS").
A :class:`Lazy` stands for such an object and makes it (importing its modules then) at the
first :meth:`~Lazy.get`. That may come from the event loop, the SQLite writer thread or the
webhook dispatcher at the same moment, so making it is serialised by a lock: every caller
gets the one object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """The object ``make()`` returns, made at the first :meth:`get`."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: list[T] = []  # empty until made (T may be any value, None included)
        self._lock = threading.Lock()

    def get(self) -> T:
        if not self._made:
            with self._lock:
                if not self._made:
                    self._made.append(self._make())
        return self._made[0]
