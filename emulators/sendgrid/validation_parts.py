"""Mail-send validation of the message parts: content, attachments, headers, substitutions,
categories, custom args, and the mail/tracking settings (esp-contracts.md A1)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mailsandbox.emulators.sendgrid.checks import Checks, has_crlf

RESERVED_HEADERS = (
    "x-sg-id",
    "x-sg-eid",
    "received",
    "dkim-signature",
    "Content-Type",
    "Content-Transfer-Encoding",
    "To",
    "From",
    "Subject",
    "Reply-To",
    "CC",
    "BCC",
)
_RESERVED = {h.lower() for h in RESERVED_HEADERS}
MAX_SUBSTITUTIONS = 10_000
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_GROUPS_TO_DISPLAY = 25
CONTENT_REQUIRED = (
    "Unless a valid template_id is provided, the content parameter is required. There must be at "
    "least one defined content block. We typically suggest both text/plain and text/html blocks "
    "are included, but only one block is required."
)
CONTENT_ORDER = (
    "If present, text/plain and text/html may only be provided in order: text/plain, "
    "then text/html, then any other content."
)
# settings object → its name in SendGrid's "The ... enable param should be a boolean value."
MAIL_SETTINGS = {
    "bypass_list_management": "bypass list management",
    "bypass_spam_management": "bypass spam management",
    "bypass_bounce_management": "bypass bounce management",
    "bypass_unsubscribe_management": "bypass unsubscribe management",
    "footer": "footer",
    "sandbox_mode": "sandbox mode",
}
TRACKING_SETTINGS = {
    "click_tracking": "click tracking",
    "open_tracking": "open tracking",
    "subscription_tracking": "subscription tracking",
    "ganalytics": "ganalytics",
}


def check_headers(c: Checks, headers: Any, path: str) -> None:
    if headers is None:
        return
    values = c.string_map(headers, path)
    for key in headers if isinstance(headers, dict) else ():
        if key.lower() in _RESERVED:
            c.add(
                "You may not overwrite the following reserved headers: "
                + ", ".join(RESERVED_HEADERS),
                f"{path}.{key}",
                "message.headers",
            )
        elif not key.isascii() or not key.isprintable() or " " in key or ":" in key or not key:
            c.add("Header names must be printable ASCII without spaces or colons.", path)
        elif key in values and has_crlf(values[key]):
            c.add("Header values may not contain carriage returns or line feeds.", f"{path}.{key}")


def check_substitutions(c: Checks, subs: Any, path: str) -> None:
    if subs is None:
        return
    values = c.string_map(subs, path)
    if len(values) > MAX_SUBSTITUTIONS:
        c.add(f"The substitutions field can have at most {MAX_SUBSTITUTIONS} keys.", path)


def check_content(c: Checks, body: dict[str, Any]) -> None:
    content = body.get("content")
    if content is None or content == []:
        if not body.get("template_id"):
            c.add(CONTENT_REQUIRED, "content", "message.content")
        return
    if not c.type_is(content, "array", "content"):
        return
    rank_seen = 0
    for i, block in enumerate(content):
        path = f"content.{i}"
        if not c.type_is(block, "object", path):
            continue
        kind, value = block.get("type"), block.get("value")
        if not isinstance(kind, str) or not kind:
            c.add(
                "The content type must be a string at least one character in length.",
                f"{path}.type",
            )
            continue
        if ";" in kind or has_crlf(kind):
            c.add("The content type cannot contain ';', or CRLF characters.", f"{path}.type")
        if not isinstance(value, str) or not value:
            c.add(
                "The content value must be a string at least one character in length.",
                f"{path}.value",
            )
        rank = {"text/plain": 1, "text/html": 2}.get(kind.lower(), 3)
        if rank < rank_seen or (rank < 3 and rank == rank_seen):
            c.add(CONTENT_ORDER, f"{path}.type", "message.content")
        rank_seen = max(rank_seen, rank)


def _check_attachment(c: Checks, item: Any, path: str) -> None:
    if not c.type_is(item, "object", path):
        return
    content = item.get("content")
    if not isinstance(content, str) or not content:
        c.add(
            "The attachment content is required.", f"{path}.content", "message.attachments.content"
        )
    else:
        try:
            base64.b64decode(content.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            c.add(
                "The attachment content must be base64 encoded.",
                f"{path}.content",
                "message.attachments.content",
            )
    filename = item.get("filename")
    if not isinstance(filename, str) or not filename:
        c.add(
            "The attachment filename parameter is required.",
            f"{path}.filename",
            "message.attachments.filename",
        )
    disposition = item.get("disposition", "attachment")
    if disposition not in ("inline", "attachment"):
        c.add(
            "The disposition of your attachment can be either 'inline' or 'attachment'.",
            f"{path}.disposition",
            "message.attachments.disposition",
        )
    for key in ("filename", "type", "content_id"):
        value = item.get(key)
        if value is not None and c.type_is(value, "string", f"{path}.{key}") and has_crlf(value):
            c.add(f"The attachment {key} cannot contain CRLF characters.", f"{path}.{key}")
    if disposition == "inline" and not item.get("content_id"):
        c.add(
            "The content_id parameter is required when the disposition is set to inline.",
            f"{path}.content_id",
            "message.attachments.content_id",
        )


def check_attachments(c: Checks, attachments: Any) -> None:
    if attachments is None or not c.type_is(attachments, "array", "attachments"):
        return
    for i, item in enumerate(attachments):
        _check_attachment(c, item, f"attachments.{i}")


def check_categories(c: Checks, categories: Any) -> None:
    if categories is None or not c.type_is(categories, "array", "categories"):
        return
    if len(categories) > MAX_CATEGORIES:
        c.add(
            "You may not have more than 10 categories per request.",
            "categories",
            "message.categories",
        )
    seen: set[str] = set()
    for i, category in enumerate(categories):
        path = f"categories.{i}"
        if not c.type_is(category, "string", path):
            continue
        if len(category) > MAX_CATEGORY_LENGTH:
            c.add("A category cannot have more than 255 characters.", path, "message.categories")
        if not category.isascii():
            c.add("Categories must be ASCII.", path, "message.categories")
        if category in seen:
            c.add("The categories must be unique.", path, "message.categories")
        seen.add(category)


def check_custom_args(c: Checks, body: dict[str, Any], personalizations: list[Any]) -> None:
    """Values are strings, objects are not empty, global + own ≤ 10,000 bytes each."""
    top = body.get("custom_args")
    if top is not None and c.type_is(top, "object", "custom_args") and not top:
        c.add("The custom_args field must contain at least one key.", "custom_args")
    merged_top = c.string_map(top, "custom_args") if top is not None else {}
    for i, p in enumerate(personalizations):
        own = p.get("custom_args") if isinstance(p, dict) else None
        path = f"personalizations.{i}.custom_args"
        if own is not None and c.type_is(own, "object", path) and not own:
            c.add("The custom_args field must contain at least one key.", path)
        merged = {**merged_top, **(c.string_map(own, path) if own is not None else {})}
        if len(json.dumps(merged).encode()) > MAX_CUSTOM_ARGS_BYTES:
            c.add(
                "The total size of custom arguments (global and personalization) must be "
                f"less than {MAX_CUSTOM_ARGS_BYTES} bytes.",
                path,
                "message.custom_args",
            )


def _check_enables(c: Checks, settings: Any, names: dict[str, str], root: str) -> None:
    if settings is None or not c.type_is(settings, "object", root):
        return
    for key, words in names.items():
        block = settings.get(key)
        if block is None or not c.type_is(block, "object", f"{root}.{key}"):
            continue
        for flag in ("enable", "enable_text"):
            if flag in block and not isinstance(block[flag], bool):
                param = "enable" if flag == "enable" else "enable text"
                c.add(
                    f"The {words} {param} param should be a boolean value.", f"{root}.{key}.{flag}"
                )


def check_settings(c: Checks, body: dict[str, Any]) -> None:
    """mail_settings, tracking_settings, batch_id, asm, ip_pool_name, template_id."""
    _check_enables(c, body.get("mail_settings"), MAIL_SETTINGS, "mail_settings")
    settings = body.get("mail_settings")
    footer = settings.get("footer") if isinstance(settings, dict) else None
    if isinstance(footer, dict):
        for key in ("text", "html"):
            c.optional(footer, key, "string", f"mail_settings.footer.{key}")
    _check_enables(c, body.get("tracking_settings"), TRACKING_SETTINGS, "tracking_settings")
    c.optional(body, "batch_id", "string", "batch_id")
    c.optional(body, "template_id", "string", "template_id")
    asm = c.optional(body, "asm", "object", "asm")
    if asm is not None:
        if not isinstance(asm.get("group_id"), int) or isinstance(asm.get("group_id"), bool):
            c.add("The asm group_id must be an integer.", "asm.group_id", "message.asm")
        groups = c.optional(asm, "groups_to_display", "array", "asm.groups_to_display") or []
        if len(groups) > MAX_GROUPS_TO_DISPLAY:
            c.add("The asm groups_to_display can have at most 25 groups.", "asm.groups_to_display")
    pool = c.optional(body, "ip_pool_name", "string", "ip_pool_name")
    if pool is not None and not 2 <= len(pool) <= 64:
        c.add("The ip_pool_name must be between 2 and 64 characters.", "ip_pool_name")
