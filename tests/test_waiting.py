"""The shared wait helper: returns the first truthy value, retries assertions, fails in time."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from tests.waiting import eventually, eventually_async


def test_returns_the_first_truthy_value() -> None:
    counter = itertools.count()
    assert eventually(lambda: [n] if (n := next(counter)) >= 3 else []) == [3]


def test_retries_a_failing_assertion_and_reraises_it_at_the_deadline() -> None:
    def check() -> None:
        raise AssertionError("still 2 messages")

    started = time.monotonic()
    with pytest.raises(AssertionError, match="still 2 messages"):
        eventually(check, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 2


def test_a_falsy_value_fails_with_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"within 0.2 s \(inbox empty\); last value: \[\]"):
        eventually(lambda: [], timeout=0.2, what="inbox empty")


def test_async_version_accepts_sync_and_async_checks() -> None:
    async def main() -> None:
        counter = itertools.count()

        async def ready() -> bool:
            return next(counter) >= 2

        assert await eventually_async(ready) is True
        assert await eventually_async(lambda: 5) == 5
        with pytest.raises(AssertionError):
            await eventually_async(lambda: 0, timeout=0.1)

    asyncio.run(main())
