"""The AWS Query protocol of SES v1 and SNS: form parameters in, XML out.

Requests are ``application/x-www-form-urlencoded`` with ``Action``, ``Version`` and the
parameters flattened the way botocore's query serializer writes them: structures as dotted
names (``Message.Subject.Data``), lists as ``.member.N``, maps as ``.entry.N.key`` /
``.entry.N.value``. :func:`nest` rebuilds the structure; :func:`response` writes
``<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>``, lists as ``<member>``
elements and :class:`XmlMap` values as ``<entry><key/><value/></entry>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import Response

from mailsandbox.emulators.ses import aws

_INDEX = re.compile(r"\d+")


class XmlMap(dict[str, Any]):
    """A map serialised as AWS Query maps are (``entry``/``key``/``value``)."""


def parse_form(body: bytes) -> dict[str, str]:
    """The form fields of a Query request body (the last value wins, as AWS reads them)."""
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _insert(node: dict[str, Any], parts: list[str], value: str) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        node[head] = value
        return
    child = node.setdefault(head, {})
    if isinstance(child, dict):
        _insert(child, rest, value)


def _shape(node: Any) -> Any:
    """``{"member": {"1": a, "2": b}}`` → ``[a, b]``; ``{"entry": {"1": {"key", "value"}}}`` →
    a dict; anything else recursively."""
    if not isinstance(node, dict):
        return node
    if set(node) == {"member"} and isinstance(node["member"], dict):
        items = node["member"]
        keys = sorted((k for k in items if _INDEX.fullmatch(k)), key=int)
        return [_shape(items[k]) for k in keys]
    if set(node) == {"entry"} and isinstance(node["entry"], dict):
        entries = node["entry"]
        out: dict[str, Any] = {}
        for k in sorted((k for k in entries if _INDEX.fullmatch(k)), key=int):
            entry = entries[k]
            if isinstance(entry, dict) and "key" in entry:
                out[str(entry["key"])] = _shape(entry.get("value", ""))
        return out
    return {k: _shape(v) for k, v in node.items()}


def nest(fields: dict[str, str]) -> dict[str, Any]:
    """The request's parameters as nested dicts and lists (``Action``/``Version`` included)."""
    root: dict[str, Any] = {}
    for name, value in fields.items():
        _insert(root, name.split("."), value)
    shaped: dict[str, Any] = _shape(root)
    return shaped


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml(value: Any, indent: str) -> Iterable[str]:
    if isinstance(value, XmlMap):
        for key, item in value.items():
            if isinstance(item, dict):
                yield f"{indent}<entry><key>{_escape(key)}</key><value>\n"
                yield from _xml(item, indent + "  ")
                yield f"{indent}</value></entry>\n"
            else:
                yield (
                    f"{indent}<entry><key>{_escape(key)}</key>"
                    f"<value>{_scalar(item)}</value></entry>\n"
                )
    elif isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, (dict, list)):
                yield f"{indent}<{key}>\n"
                yield from _xml(item, indent + "  ")
                yield f"{indent}</{key}>\n"
            else:
                yield f"{indent}<{key}>{_scalar(item)}</{key}>\n"
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                yield f"{indent}<member>\n"
                yield from _xml(item, indent + "  ")
                yield f"{indent}</member>\n"
            else:
                yield f"{indent}<member>{_scalar(item)}</member>\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _escape(str(value))


def response(action: str, result: dict[str, Any] | None, namespace: str) -> Response:
    """The 200 answer of ``action``; ``result`` None for actions without a result element."""
    request_id = aws.new_uuid()
    lines = [f'<{action}Response xmlns="{namespace}">\n']
    if result is not None:
        lines.append(f"  <{action}Result>\n")
        lines.extend(_xml(result, "    "))
        lines.append(f"  </{action}Result>\n")
    lines.append(
        f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n"
        f"  </ResponseMetadata>\n</{action}Response>\n"
    )
    return Response("".join(lines), media_type="text/xml", headers={"x-amzn-RequestId": request_id})
