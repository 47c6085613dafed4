"""What ``TestRenderTemplate`` (v1) and ``TestRenderEmailTemplate`` (v2) answer: the rendered
template as the MIME message SES would send (``Date``, ``Subject``, then
``multipart/alternative`` text and HTML), built by the shared writer."""

from __future__ import annotations

from mailsandbox.emulators.common import mime_build
from mailsandbox.emulators.ses.message_build import Structured, split_head


def test_render(content: Structured) -> str:
    bodies = [("text/plain", content.text), ("text/html", content.html)]
    parts = [(k, v) for k, v in bodies if v] or [("text/plain", "")]
    envelope = mime_build.Envelope(sender={"email": ""}, to=[], subject=content.subject)
    raw = mime_build.build(envelope, parts, [])
    head, body = split_head(raw)
    kept = [line for line in head.split(b"\r\n") if not line.lower().startswith((b"from:", b"to:"))]
    return (b"\r\n".join(kept) + body).decode("utf-8")
