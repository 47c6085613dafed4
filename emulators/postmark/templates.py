"""Postmark templates: the table, and rendering a template (with its layout) for a send.

A template has a numeric ``TemplateId``, an optional ``Alias``, a ``Name``, a ``Subject``, an
``HtmlBody`` and a ``TextBody``; ``TemplateType`` is ``Standard`` or ``Layout``, and a standard
template may name a layout (``LayoutTemplate``, by alias) whose ``{{{ @content }}}`` placeholder
receives the rendered template. Postmark's template language (Mustachio) is Handlebars-like:
``{{name}}`` (HTML-escaped in the HTML body), ``{{{raw}}}``, ``{{#each}}``, ``{{#name}}``
sections; the emulators' Handlebars renderer covers that.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from mailsandbox.emulators import handlebars
from mailsandbox.storage.sql import Connection, Row

PLACEHOLDER = re.compile(r"\{\{\{\s*@content\s*\}\}\}")
MARK = "\x00postmark-layout-content\x00"
_VARIABLE = re.compile(r"\{\{\{?\s*([A-Za-z_][\w.]*)\s*\}?\}\}")


@dataclass
class Template:
    id: int
    alias: str | None
    name: str
    subject: str
    html: str
    text: str
    type: str = "Standard"
    layout: str | None = None
    active: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "TemplateId": self.id,
            "Name": self.name,
            "Subject": self.subject,
            "HtmlBody": self.html or None,
            "TextBody": self.text or None,
            "AssociatedServerId": 1,
            "Active": self.active,
            "Alias": self.alias,
            "TemplateType": self.type,
            "LayoutTemplate": self.layout,
        }

    def as_listed(self) -> dict[str, Any]:
        return {
            "Active": self.active,
            "TemplateId": self.id,
            "Name": self.name,
            "Alias": self.alias,
            "TemplateType": self.type,
            "LayoutTemplate": self.layout,
        }


def _template(row: Row) -> Template:
    return Template(
        row["id"],
        row["alias"],
        row["name"],
        row["subject"],
        row["html"],
        row["text"],
        row["type"],
        row["layout"],
        bool(row["active"]),
    )


def find(conn: Connection, id_or_alias: str | int) -> Template | None:
    """The template with this numeric id or alias."""
    text = str(id_or_alias).strip()
    if text.isdigit():
        row = conn.execute("SELECT * FROM postmark_templates WHERE id = ?", (int(text),)).fetchone()
    else:
        row = conn.execute("SELECT * FROM postmark_templates WHERE alias = ?", (text,)).fetchone()
    return _template(row) if row else None


def listing(conn: Connection, kind: str = "", layout: str = "") -> list[Template]:
    rows = conn.execute("SELECT * FROM postmark_templates ORDER BY id").fetchall()
    found = [_template(r) for r in rows]
    if kind and kind != "All":
        found = [t for t in found if t.type == kind]
    if layout:
        found = [t for t in found if t.layout == layout]
    return found


def save(conn: Connection, t: Template) -> Template:
    """Insert (``id`` 0) or update."""
    now = time.time()
    values = (t.alias, t.name, t.subject, t.html, t.text, t.type, t.layout, int(t.active), now)
    if t.id:
        conn.execute(
            "UPDATE postmark_templates SET alias = ?, name = ?, subject = ?, html = ?, text = ?,"
            " type = ?, layout = ?, active = ?, updated = ? WHERE id = ?",
            (*values, t.id),
        )
        return t
    cursor = conn.execute(
        "INSERT INTO postmark_templates (alias, name, subject, html, text, type, layout, active,"
        " updated, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*values, now),
    )
    t.id = int(cursor.lastrowid or 0)
    return t


def delete(conn: Connection, template_id: int) -> None:
    conn.execute("DELETE FROM postmark_templates WHERE id = ?", (template_id,))


@dataclass
class Rendered:
    subject: str
    html: str
    text: str


def _in_layout(layout_source: str, content: str, model: dict[str, Any], escape: bool) -> str:
    if not layout_source:
        return content
    rendered = handlebars.render(PLACEHOLDER.sub(MARK, layout_source), model, escape=escape)
    return rendered.replace(MARK, content)


def render(template: Template, layout: Template | None, model: dict[str, Any]) -> Rendered:
    """The subject and bodies of ``template`` for ``model`` (TemplateError when they do not
    render)."""
    html = handlebars.render(template.html, model)
    text = handlebars.render(template.text, model, escape=False)
    if layout is not None:
        html = _in_layout(layout.html, html, model, True) if template.html else ""
        text = _in_layout(layout.text, text, model, False) if template.text else ""
    subject = handlebars.render(template.subject, model, escape=False)
    return Rendered(subject, html, text)


def suggested_model(*sources: str) -> dict[str, Any]:
    """Postmark's SuggestedTemplateModel: every variable a template names, with a sample value
    (``{"name": "name_Value"}``; dotted paths become nested objects)."""
    model: dict[str, Any] = {}
    for source in sources:
        for path in _VARIABLE.findall(source or ""):
            if path in ("else", "this") or path.startswith("@"):
                continue
            node = model
            *parents, leaf = path.split(".")
            for part in parents:
                child = node.setdefault(part, {})
                node = child if isinstance(child, dict) else {}
            node.setdefault(leaf, f"{leaf}_Value")
    return model


def placeholder_count(source: str) -> int:
    return len(PLACEHOLDER.findall(source or ""))
