"""Mailgun v3 emulation: messages, events, templates, suppressions, webhooks."""

from __future__ import annotations

from fastapi import FastAPI

from sandbox.runtime import Sandbox


def install(app: FastAPI, sandbox: Sandbox) -> None:
    """Attach Mailgun's routes and storage to the app (nothing yet)."""
