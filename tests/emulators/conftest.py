"""Fixtures the emulator tests share: one sandbox per test module for read-only checks, a real
Django server with django-anymail's webhook views (one per test module), and the collector of
anymail's tracking signal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anymail.signals import tracking

from mailsandbox.runner import RunningSandbox, start_in_thread
from tests.conftest import make_settings
from tests.emulators.anymail_tracking import Tracked
from tests.emulators.django_settings import serve_django


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One sandbox for a whole module of read-only checks (sandbox start-up is the slow part)."""
    running = start_in_thread(make_settings(tmp_path_factory.mktemp("shared")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def django_url() -> Iterator[str]:
    with serve_django() as url:
        yield url


@pytest.fixture
def tracked() -> Iterator[Tracked]:
    collector = Tracked()
    tracking.connect(collector, weak=False)
    yield collector
    tracking.disconnect(collector)
