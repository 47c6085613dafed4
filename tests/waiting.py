"""The one way tests wait: ``eventually(check)`` polls a condition until it holds or time is up.

No test sleeps for a fixed time or writes its own deadline loop. A check returns a value (a
truthy one ends the wait and is returned) or raises ``AssertionError`` (retried; the last one is
re-raised at the deadline, so the failure says what was still wrong).

    message = eventually(lambda: api.get("/api/v1/messages").json()["messages"])
    eventually(lambda: check_status(api))           # a check that asserts
    await eventually_async(lambda: queue.qsize() == 2)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
INTERVAL = 0.01  # the first retries come fast; the pause grows to MAX_INTERVAL
MAX_INTERVAL = 0.1


class _Waiter:
    def __init__(self, timeout: float, what: str) -> None:
        self.deadline = time.monotonic() + timeout
        self.timeout, self.what = timeout, what
        self.pause = INTERVAL

    def failed(self, value: object, error: AssertionError | None) -> AssertionError | None:
        """None while time is left (the caller then waits ``next_pause()``), else the error."""
        if time.monotonic() < self.deadline:
            return None
        if error is not None:
            return error
        what = f" ({self.what})" if self.what else ""
        return AssertionError(f"not true within {self.timeout:g} s{what}; last value: {value!r}")

    def next_pause(self) -> float:
        pause, self.pause = self.pause, min(self.pause * 2, MAX_INTERVAL)
        return max(min(pause, self.deadline - time.monotonic()), 0)


def eventually(check: Callable[[], T], timeout: float = DEFAULT_TIMEOUT, what: str = "") -> T:
    """Call ``check`` until it returns a truthy value (returned) without raising AssertionError."""
    waiter = _Waiter(timeout, what)
    while True:
        value: object = None
        error: AssertionError | None = None
        try:
            result = check()
            if result:
                return result
            value = result
        except AssertionError as exc:
            error = exc
        failure = waiter.failed(value, error)
        if failure is not None:
            raise failure
        time.sleep(waiter.next_pause())


async def eventually_async(
    check: Callable[[], T | Awaitable[T]], timeout: float = DEFAULT_TIMEOUT, what: str = ""
) -> T:
    """:func:`eventually` in a coroutine: ``check`` may be sync or async; the loop runs on."""
    waiter = _Waiter(timeout, what)
    while True:
        value: object = None
        error: AssertionError | None = None
        try:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return result  # type: ignore[return-value]
            value = result
        except AssertionError as exc:
            error = exc
        failure = waiter.failed(value, error)
        if failure is not None:
            raise failure
        await asyncio.sleep(waiter.next_pause())
