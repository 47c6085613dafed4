"""Collecting what django-anymail's tracking webhook views signal (``anymail.signals.tracking``)
in the webhook tests of every ESP, waiting until a message's events are all there, and the
message those tests send through each backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent
from django.core.mail import get_connection

from tests.waiting import eventually


@dataclass
class Tracked:
    events: list[tuple[str, AnymailTrackingEvent]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, sender: Any, event: AnymailTrackingEvent, esp_name: str, **_: Any) -> None:
        with self.cond:
            self.events.append((esp_name, event))
            self.cond.notify_all()

    def wait(
        self, done: Callable[[list[AnymailTrackingEvent]], bool], timeout: float = 15
    ) -> list[AnymailTrackingEvent]:
        def all_there() -> list[AnymailTrackingEvent]:
            with self.cond:
                found = [e for _, e in self.events]
            types = sorted((e.recipient or "", e.event_type) for e in found)
            assert done(found), f"tracking events so far: {types}"
            return found

        return eventually(all_there, timeout=timeout)


def by_recipient(found: list[AnymailTrackingEvent], message_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for event in found:
        if event.message_id == message_id:
            out.setdefault(event.recipient or "", []).append(event.event_type)
    return out


def complete(
    message_id: str, expected: dict[str, list[str]]
) -> Callable[[list[AnymailTrackingEvent]], bool]:
    return lambda found: all(
        sorted(by_recipient(found, message_id).get(r, [])) == sorted(t) for r, t in expected.items()
    )


def send_with(backend: str, to: list[str], **attrs: Any) -> AnymailMessage:
    """Send the tracking tests' message (text, HTML with a link, tag ``welcome``, metadata
    ``order: 42``) through anymail's ``backend``; ``attrs`` set more of it."""
    message = AnymailMessage(
        "Welcome", "Hello!", "Shop <shop@example.com>", to, connection=get_connection(backend)
    )
    message.attach_alternative('<p>Hello <a href="https://example.com/go">go</a></p>', "text/html")
    message.tags = ["welcome"]
    message.metadata = {"order": "42"}
    for name, value in attrs.items():
        setattr(message, name, value)
    message.send()
    return message
