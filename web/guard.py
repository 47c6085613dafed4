"""The UI's guards that live beside its routes: state-changing routes declare that they need
the same-origin proof, and a redirect target given in a request must stay on this server.

The proof itself (our ``Origin``, ``Sec-Fetch-Site: same-origin`` or htmx's ``HX-Request``, a
header a foreign page cannot send without a CORS preflight we never grant) is checked once, by
the security middleware, for every route the HTTP surface serves as a UI action
(``mailsandbox.web.family``). :func:`require_same_origin` makes an action route fail closed if
the table ever stops covering it.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from mailsandbox.api.surface import family_of


def require_same_origin(request: Request) -> None:
    """FastAPI dependency: 403 unless the surface serves this route as a same-origin action
    (the middleware then refused any request without the proof)."""
    family = family_of(request.scope)
    if family is None or not family.policy_for(request.method, request.url.path).same_origin_proof:
        raise HTTPException(status_code=403, detail="cross-origin request refused")


def local_path(target: str, default: str = "/") -> str:
    """``target`` if it is a path on this server (``/...``, not ``//host``), else ``default``."""
    return target if target.startswith("/") and not target.startswith("//") else default
