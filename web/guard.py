"""Cross-origin protection for the UI's state-changing requests (delete, mark read/unread),
and the check that a redirect target given in a request stays on this server.

A request is accepted when its ``Origin`` is this server's own origin, or when it carries no
``Origin`` but proves it came from our page: htmx's ``HX-Request`` header (a custom header a
foreign page cannot send without a CORS preflight we never grant) or ``Sec-Fetch-Site:
same-origin``. A foreign ``Origin`` or ``Sec-Fetch-Site: cross-site`` is always refused.
"""

from __future__ import annotations

from fastapi import HTTPException, Request


def own_origin(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def is_same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site", "")
    if site in {"cross-site", "same-site"}:
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own_origin(request)
    return request.headers.get("hx-request") == "true" or site == "same-origin"


def require_same_origin(request: Request) -> None:
    """FastAPI dependency: 403 for cross-origin state changes."""
    if not is_same_origin(request):
        raise HTTPException(status_code=403, detail="cross-origin request refused")


def local_path(target: str, default: str = "/") -> str:
    """``target`` if it is a path on this server (``/...``, not ``//host``), else ``default``."""
    return target if target.startswith("/") and not target.startswith("//") else default
