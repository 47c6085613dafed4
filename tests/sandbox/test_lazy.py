"""``Lazy(make)`` makes its object once, at the first ``get``, whichever threads ask at once
(the providers' webhook adapters and inbound routers are reached from the event loop, the
SQLite writer thread and the dispatcher)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from mailsandbox.lazy import Lazy
from tests.waiting import eventually


def test_nothing_is_made_before_the_first_get() -> None:
    made: list[object] = []

    def make() -> object:
        made.append(object())
        return made[-1]

    lazy = Lazy(make)
    assert made == []
    first = lazy.get()
    assert made == [first] and lazy.get() is first


def test_threads_asking_at_once_get_the_one_object() -> None:
    release = threading.Event()
    calls: list[object] = []
    asking = 0
    lock = threading.Lock()

    def make() -> object:
        release.wait(10)  # the other threads ask meanwhile
        calls.append(object())
        return calls[-1]

    lazy = Lazy(make)

    def ask(_: int) -> object:
        nonlocal asking
        with lock:
            asking += 1
        return lazy.get()

    with ThreadPoolExecutor(8) as pool:
        results = pool.map(ask, range(8))
        eventually(lambda: asking == 8)
        release.set()
        got = list(results)
    assert len(calls) == 1 and all(item is calls[0] for item in got)
