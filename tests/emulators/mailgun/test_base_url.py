"""``auth.base_url`` memoizes Starlette's ``request.base_url``: for every way in it must give
what the plain path (``str(request.base_url).rstrip("/")``) gives, first and again."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from mailsandbox.emulators.mailgun.auth import base_url

SCOPES: list[dict[str, Any]] = [
    {"headers": [(b"host", b"localhost:8025")], "server": ("127.0.0.1", 8025)},
    {"headers": [(b"host", b"sandbox.test")], "server": ("127.0.0.1", 8025), "scheme": "https"},
    {"headers": [], "server": ("127.0.0.1", 8025)},  # no Host: the server's address
    {"headers": [], "server": ("::1", 80)},  # IPv6, default port
    {"headers": [(b"host", b"[::1]:9000")], "server": ("::1", 9000)},
    {"headers": [(b"host", b"a.test"), (b"host", b"b.test")], "server": ("10.0.0.1", 80)},
    {
        "headers": [(b"host", b"localhost:8025")],
        "server": ("127.0.0.1", 8025),
        "root_path": "/mail",
    },
    {"headers": [(b"host", b"bad host")], "server": ("127.0.0.1", 8025)},  # not a valid Host
    {"headers": [(b"host", b"localhost:8025")], "server": None},
]


@pytest.mark.parametrize("extra", SCOPES)
def test_the_memo_gives_what_starlette_gives(extra: dict[str, Any]) -> None:
    scope = {"type": "http", "method": "POST", "path": "/v3/a.test/messages", **extra}
    plain = str(Request(scope).base_url).rstrip("/")
    assert base_url(Request(scope)) == plain
    assert base_url(Request(scope)) == plain  # the memo's answer
    other = {**scope, "scheme": "https" if scope.get("scheme") != "https" else "http"}
    assert base_url(Request(other)) == str(Request(other).base_url).rstrip("/")
