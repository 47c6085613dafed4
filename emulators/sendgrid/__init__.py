"""SendGrid v3 emulation: ``/v3/mail/send``, templates, suppressions, event webhook settings."""

from __future__ import annotations

from fastapi import FastAPI

from sandbox.runtime import Sandbox


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach SendGrid's routes and storage to the app (nothing yet)."""
