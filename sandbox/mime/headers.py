"""Header decoding: RFC 2047 words, raw 8-bit bytes (UTF-8, else Latin-1), folded lines, and
address lists, read through a by-name view of a message's headers built once; plus a splitter
for a plain header block that yields the fields exactly as the email package's feed parser
(``compat32``) would store them, for the cases it can vouch for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

from mailsandbox.mime.model import Address

_SURROGATE = re.compile("[\udc80-\udcff]")  # raw 8-bit bytes, as compat32 hands them over
_FOLD = re.compile(r"\r?\n[ \t]*")
_ATOMS = r"[^\s<>()\[\]\\,;:@\"]+"
# One plain mailbox ("Name <a@b>", "\"Name\" <a@b>", "a@b"): parsed without the (slow, general)
# email.utils.getaddresses; anything else (groups, comments, lists) goes the general way.
_SIMPLE_MAILBOX = re.compile(
    rf'\s*(?:(?:"([^"\\]*)"|([^"<>()\[\]\\,;:@]*?))\s*<({_ATOMS}@{_ATOMS})>|({_ATOMS}@{_ATOMS}))\s*'
)
# The first line of a header field as the feed parser takes it: a non-empty name of printable
# ASCII other than ":" (its ``headerRE``, minus the empty name it drops as a defect), a colon.
# A space before the colon fails, so "From " envelope lines never match either.
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+:")


def decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if candidate and candidate not in {"unknown-8bit", "us-ascii"}:
            try:
                return data.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def header_text(value: object) -> str:
    """A header value as compat32 hands it over, as text (RFC 2047 words still encoded).

    Raw 8-bit bytes arrive either as surrogate escapes in a ``str`` or, for some headers, as
    an ``email.header.Header`` in the ``unknown-8bit`` charset, whose ``str()`` would turn
    them into U+FFFD: both are decoded as UTF-8 (Latin-1 as a last resort) here.
    """
    if isinstance(value, str):
        return _undo_surrogates(value)
    if isinstance(value, Header):
        try:
            chunks = decode_header(value)
        except Exception:
            return str(value)
        return "".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
            for chunk, charset in chunks
        )
    return "" if value is None else str(value)


def decode_header_value(value: object) -> str:
    """Decode a header value (RFC 2047 words, raw 8-bit) to text; never raises."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else header_text(value)
    if "=?" not in text and not _SURROGATE.search(text):
        return _unfold(text)
    if len(text) <= _CACHED_WORDS_CHARS:
        return _decode_words_cached(text)
    return _decode_words(text)


# RFC 2047 decoding (email.header.decode_header) costs tens of µs a value, and the same From,
# To or Cc values recur from message to message, and within one (a From is decoded for its
# name and again for the search text): decoded values are cached, short ones only.
_CACHED_WORDS_CHARS = 500


def _decode_words(text: str) -> str:
    try:
        chunks = decode_header(text)
    except Exception:
        return _unfold(_undo_surrogates(text))
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(_undo_surrogates(chunk))
    return _unfold("".join(out))


_decode_words_cached = lru_cache(maxsize=1024)(_decode_words)


def _undo_surrogates(text: str) -> str:
    """compat32 hands raw 8-bit header bytes over as surrogate escapes; decode them properly."""
    if not _SURROGATE.search(text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), "utf-8")


def _unfold(text: str) -> str:
    if "\n" not in text:
        return text.strip()
    return _FOLD.sub(" ", text).strip()


def split_header_block(head: str) -> list[tuple[str, str]] | None:
    """The ``(name, value)`` fields of a header block, as compat32's feed parser stores them.

    ``head`` is the block up to, not including, the CRLF that ends its last line, as text
    decoded ASCII/surrogateescape, with CRLF line breaks only (the caller checks: the feed
    parser also breaks lines at a lone CR or LF). Values keep their continuation lines, with
    the CRLFs between them; only the whitespace after the colon is dropped (its
    ``header_source_parse``). Returns None for anything the feed parser would treat otherwise
    (a line that is neither a field nor a continuation, a leading continuation, a "From "
    envelope line, an empty field name): the caller then lets the email package parse it.
    """
    fields: list[tuple[str, str]] = []
    name = ""
    value = ""
    more: list[str] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            if not name:
                return None  # a continuation with no field to continue
            more.append(line)
            continue
        found = _FIELD_NAME.match(line)
        if found is None:
            return None  # not a field: the feed parser would start the body here
        if name:
            fields.append((name, value + "\r\n" + "\r\n".join(more) if more else value))
            more = []
        colon = found.end() - 1
        name, value = line[:colon], line[colon + 1 :].lstrip(" \t")
    if name:
        fields.append((name, value + "\r\n" + "\r\n".join(more) if more else value))
    return fields


class HeaderView:
    """A message's top-level headers looked up by name in a dict built once.

    ``Message.get`` scans every header (lower-casing each name) per call; parsing asks for
    about twenty, so the lookups are done on this view, built from ``Message.items()`` (the
    same values ``get``/``get_all`` return: first match, and all matches in order).
    """

    def __init__(self, msg: Message | None = None) -> None:
        self._all: dict[str, list[Any]] = {}
        if msg is not None:
            for name, value in msg.items():
                self._all.setdefault(name.lower(), []).append(value)

    @classmethod
    def of(cls, headers: Iterable[tuple[str, Any]]) -> HeaderView:
        view = cls()
        for name, value in headers:
            view._all.setdefault(name.lower(), []).append(value)
        return view

    def get(self, name: str) -> Any:
        values = self._all.get(name.lower())
        return values[0] if values else None

    def get_all(self, name: str) -> list[Any] | None:
        return self._all.get(name.lower())


Headers = Message | HeaderView


def raw_header(msg: Headers, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    return header_text(value)


def parse_addresses(msg: Headers, name: str) -> list[Address]:
    values = msg.get_all(name) or []
    if not values:
        return []
    raw_values = [header_text(v) for v in values]
    if len(raw_values) == 1 and "\n" not in raw_values[0]:
        simple = _SIMPLE_MAILBOX.fullmatch(raw_values[0])
        if simple:
            return [_mailbox(simple)]
    listed = _simple_list(raw_values)
    if listed is not None:
        return listed
    result = []
    try:
        pairs = getaddresses(raw_values)
    except Exception:
        pairs = []
    for display, addr in pairs:
        if not display and not addr:
            continue
        result.append(Address(decode_header_value(display), addr.strip()))
    return result


def _mailbox(simple: re.Match[str]) -> Address:
    quoted, bare, angle, lone = simple.groups()
    name = quoted if quoted is not None else " ".join((bare or "").split())
    return Address(decode_header_value(name), angle or lone)


# getaddresses() takes only space, tab, CR and LF for white space; _SIMPLE_MAILBOX any. A list
# is split here only if no other white space is in the way, nor a line break inside a mailbox.
_ODD_SPACE = re.compile(r"[^\S \t]")


def _simple_list(raw_values: list[str]) -> list[Address] | None:
    """A list of plain mailboxes split at its commas: what getaddresses() would make of it.

    getaddresses() walks the list a character at a time in Python (tens of µs for two
    addresses). Each comma-separated piece must be one plain mailbox (_SIMPLE_MAILBOX, whose
    names and addresses hold no comma, quoted names aside: a piece cut inside quotes never
    matches); line breaks are allowed around a piece, not in it. Otherwise None.
    """
    result = []
    for value in raw_values:
        for piece in value.split(","):
            if _ODD_SPACE.search(piece.strip(" \t\r\n")):
                return None
            simple = _SIMPLE_MAILBOX.fullmatch(piece)
            if simple is None:
                return None
            result.append(_mailbox(simple))
    return result


def parse_from(msg: Headers) -> Address:
    addresses = parse_addresses(msg, "From")
    if addresses and addresses[0].address:
        return addresses[0]
    raw = decode_header_value(msg.get("From"))
    return Address(raw, "") if raw else Address("", "")
