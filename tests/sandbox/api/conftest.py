"""A sandbox shared by a module's parametrised error cases (they leave no state behind)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mailsandbox.runner import start_in_thread
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    running = start_in_thread(make_settings(tmp_path_factory.mktemp("shared")))
    try:
        with httpx.Client(base_url=running.url, timeout=30) as client:
            yield client
    finally:
        running.stop()
