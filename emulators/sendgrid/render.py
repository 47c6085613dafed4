"""What one personalization's message says: template rendering, legacy substitutions and
sections, and the footer mail setting. Produces a subject and ordered content blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailsandbox.emulators import handlebars
from mailsandbox.emulators.sendgrid.errors import SendGridError
from mailsandbox.emulators.sendgrid.template_store import Template
from mailsandbox.mime import html_to_text


@dataclass
class Rendered:
    subject: str
    contents: list[tuple[str, str]]  # (content type, value), text/plain first


def _replace_all(text: str, mapping: dict[str, str]) -> str:
    for key in sorted(mapping, key=len, reverse=True):  # longest tag first: no prefix clashes
        text = text.replace(key, mapping[key])
    return text


def _dynamic(template: Template, data: dict[str, Any], fallback_subject: str) -> Rendered:
    version = template.active_version()
    if version is None:
        return Rendered(fallback_subject, [])
    try:
        subject = handlebars.render(version.subject, data) if version.subject else fallback_subject
        html = handlebars.render(version.html_content, data)
        plain = handlebars.render(version.plain_content, data)
    except handlebars.TemplateError as exc:
        raise SendGridError.one(400, str(exc), "template_id") from exc
    if not plain and html and version.generate_plain_content:
        plain = html_to_text(html)
    contents = [(k, v) for k, v in (("text/plain", plain), ("text/html", html)) if v]
    return Rendered(subject, contents)


def _legacy(template: Template, subject: str, contents: list[tuple[str, str]]) -> Rendered:
    """Legacy templates wrap the message: ``<%subject%>`` and ``<%body%>`` tags."""
    version = template.active_version()
    if version is None:
        return Rendered(subject, contents)
    bodies = dict(contents)
    wrapped = []
    for kind, source in (
        ("text/plain", version.plain_content),
        ("text/html", version.html_content),
    ):
        if source:
            wrapped.append((kind, source.replace("<%body%>", bodies.get(kind, ""))))
        elif kind in bodies:
            wrapped.append((kind, bodies[kind]))
    others = [(k, v) for k, v in contents if k not in ("text/plain", "text/html")]
    new_subject = version.subject.replace("<%subject%>", subject) if version.subject else subject
    return Rendered(new_subject, wrapped + others)


def _footer(rendered: Rendered, footer: dict[str, Any]) -> Rendered:
    text, html = footer.get("text") or "", footer.get("html") or ""
    out = []
    for kind, value in rendered.contents:
        if kind == "text/plain" and text:
            value = f"{value}\n\n{text}"
        elif kind == "text/html" and html:
            at = value.lower().rfind("</body>")
            value = value[:at] + html + value[at:] if at >= 0 else value + html
        out.append((kind, value))
    return Rendered(rendered.subject, out)


def render(body: dict[str, Any], p: dict[str, Any], template: Template | None) -> Rendered:
    """Subject and content of personalization ``p`` of mail-send ``body``."""
    subject = p.get("subject") or body.get("subject") or ""
    contents = [(c["type"], c["value"]) for c in body.get("content") or []]
    if template is not None and template.generation == "dynamic":
        rendered = _dynamic(template, p.get("dynamic_template_data") or {}, subject)
    else:
        rendered = _legacy(template, subject, contents) if template else Rendered(subject, contents)
        sections = body.get("sections") or {}
        subs = p.get("substitutions") or {}
        if sections or subs:
            rendered = Rendered(
                _replace_all(rendered.subject, subs),
                [(k, _replace_all(_replace_all(v, sections), subs)) for k, v in rendered.contents],
            )
    footer = (body.get("mail_settings") or {}).get("footer") or {}
    if footer.get("enable"):
        rendered = _footer(rendered, footer)
    return rendered
