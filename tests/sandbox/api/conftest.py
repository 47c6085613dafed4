"""A sandbox shared by a module's parametrised error cases (they leave no state behind)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from mailsandbox.runner import RunningSandbox


@pytest.fixture(scope="module")
def shared_api(
    module_sandbox_factory: Callable[..., RunningSandbox],
) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=module_sandbox_factory().url, timeout=30) as client:
        yield client
