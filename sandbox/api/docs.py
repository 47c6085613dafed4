"""``/api/docs``: the API explorer (Swagger UI), served entirely by the sandbox, so it works
offline and its page loads nothing from a CDN.

The Swagger UI files are vendored in ``sandbox/static`` (npm ``swagger-ui-dist``, Apache-2.0,
licence and notice beside them; ``scripts/vendor-swagger-ui.sh`` refreshes them). The page
reads the OpenAPI document at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from mailsandbox.api.deps import not_found

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/v1/openapi.json"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "api-docs.js": "text/javascript; charset=utf-8",
    "swagger-ui-LICENSE": "text/plain; charset=utf-8",
    "swagger-ui-NOTICE": "text/plain; charset=utf-8",
    "swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
}
# Scripts and styles from this server only; Swagger UI sets inline styles and data: icons.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/api-docs.js"></script>
</body>
</html>
"""


@router.get(DOCS_PATH)
async def api_docs(request: Request) -> Response:
    page = PAGE.format(
        title=html.escape(request.app.title), base=f"{DOCS_PATH}/assets", openapi=OPENAPI_PATH
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})


@router.get(DOCS_PATH + "/assets/{name}")
async def api_docs_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        return not_found("404 page not found")
    return FileResponse(
        STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "max-age=3600"}
    )
