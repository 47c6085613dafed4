"""The web UI: server-rendered HTML (Jinja2 + htmx), live through the core's event stream."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from sandbox.runtime import Sandbox


def install(app: FastAPI, sandbox: Sandbox) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return (
            "<!doctype html><title>mailsandbox</title><h1>mailsandbox</h1>"
            '<p>REST API: <a href="/api/v1/messages">/api/v1/messages</a> · '
            'docs: <a href="/api/docs">/api/docs</a></p>'
        )
