"""Deliverability lint: what mailbox providers require of a message, or hold against it.

:func:`lint` looks at one stored message and returns findings, each with a severity
(``error``: providers reject or junk it, or a standard is broken; ``warning``: likely to hurt
placement or rendering; ``info``: worth knowing), a one-line title, a short why, and a link to
the rule. It is a pure function of the message: no network, linear in its size.

**Bulk mail.** Gmail and Yahoo require one-click unsubscribe (RFC 8058) on bulk/marketing mail.
A message counts as bulk on a strong sign: a ``List-Id`` header, ``Precedence: bulk|list|junk``,
a ``List-Unsubscribe`` header (the sender treats it as a list), or more than
:data:`BULK_RECIPIENTS` recipients; missing unsubscribe headers are then errors. An ESP send with
categories, tags or an unsubscribe group (SendGrid ``categories``/``asm``, Mailgun ``o:tag``,
``X-Mailgun-Tag``, ``X-SMTPAPI``) or a ``Feedback-ID`` is a weaker sign (transactional mail has
categories too): the same findings are warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.utils import getaddresses, parsedate_to_datetime
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from mailsandbox import mime
from mailsandbox.checks import htmldoc

BULK_RECIPIENTS = 10
GMAIL_CLIP_BYTES = 102 * 1024
MAX_LINE_OCTETS = 998
MIN_FONT_PX = 12.0
MAX_EXAMPLES = 5
SEVERITIES = ("error", "warning", "info")

GMAIL = "https://support.google.com/a/answer/81126"
YAHOO = "https://senders.yahooinc.com/best-practices/"
RFC8058 = "https://www.rfc-editor.org/rfc/rfc8058"
RFC2369 = "https://www.rfc-editor.org/rfc/rfc2369"
RFC5322 = "https://www.rfc-editor.org/rfc/rfc5322"
DMARC = "https://www.rfc-editor.org/rfc/rfc7489#section-3.1"
WCAG = "https://www.w3.org/WAI/WCAG21"

_VAGUE = {
    "click here", "here", "click", "read more", "more", "learn more", "link", "this link",
    "click this link", "go", "this", "details", "more info", "continue",
}  # fmt: skip
_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d{1,6}(?:\.\d{1,6})?)\s*(px|pt)\b", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
_SECOND_LEVEL = {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go"}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    title: str
    why: str
    url: str
    details: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "ID": self.id,
            "Severity": self.severity,
            "Title": self.title,
            "Why": self.why,
            "URL": self.url,
            "Details": list(self.details),
        }


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def organizational_domain(domain: str) -> str:
    """An approximation of the registrable domain: ``mail.shop.example`` -> ``shop.example``,
    ``news.shop.co.uk`` -> ``shop.co.uk`` (no public-suffix list is shipped)."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().strip("<>").lower()


def bulk_signals(
    headers: dict[str, list[str]], recipients: int, metadata: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """(strong, weak) reasons to treat the message as bulk mail."""
    strong: list[str] = []
    weak: list[str] = []
    if _first(headers, "List-Id"):
        strong.append("List-Id header")
    precedence = (_first(headers, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        strong.append(f"Precedence: {precedence}")
    if _first(headers, "List-Unsubscribe"):
        strong.append("List-Unsubscribe header")
    if recipients > BULK_RECIPIENTS:
        strong.append(f"{recipients} recipients")
    for name in ("X-Smtpapi", "X-Mailgun-Tag", "Feedback-Id"):
        if _first(headers, name):
            weak.append(f"{name} header")
    for provider, values in metadata.items():
        if not isinstance(values, dict):
            continue
        for key in ("categories", "tags", "asm"):
            if values.get(key):
                weak.append(f"{provider} {key}")
    return strong, weak


def _unsubscribe(
    headers: dict[str, list[str]], strong: list[str], weak: list[str]
) -> Iterator[Finding]:
    header = _first(headers, "List-Unsubscribe")
    post = (_first(headers, "List-Unsubscribe-Post") or "").strip()
    bulk = strong or weak
    severity = "error" if strong else "warning"
    because = ", ".join((strong or weak)[:3])
    if header is None:
        if bulk:
            yield Finding(
                "list-unsubscribe-missing",
                severity,
                f"Bulk mail without List-Unsubscribe (looks bulk: {because})",
                "Gmail and Yahoo require bulk senders to offer one-click unsubscribe "
                "(List-Unsubscribe and List-Unsubscribe-Post headers); without them mail is "
                "junked or rejected.",
                GMAIL,
            )
        return
    links = [link.strip() for link in re.findall(r"<([^>]*)>", header) if link.strip()]
    bad = [link for link in links if not re.match(r"(?i)^(mailto:|https?://)", link)]
    if not links or bad:
        yield Finding(
            "list-unsubscribe-malformed",
            "error",
            "List-Unsubscribe has no valid <mailto:> or <https:> link",
            "Each unsubscribe URI must be in angle brackets and be mailto: or http(s):, "
            "or clients ignore the header.",
            RFC2369,
            tuple(islice(bad or [header], MAX_EXAMPLES)),
        )
        return
    https = [link for link in links if link.lower().startswith("https://")]
    if not https:
        yield Finding(
            "list-unsubscribe-no-https",
            severity if bulk else "info",
            "List-Unsubscribe has no https: link, so one-click unsubscribe is impossible",
            "RFC 8058 one-click unsubscribe works through an HTTPS URI that receives a POST; "
            "Gmail and Yahoo require it for bulk mail.",
            RFC8058,
        )
    if post.replace(" ", "").lower() != "list-unsubscribe=one-click":
        yield Finding(
            "list-unsubscribe-post-missing",
            severity if bulk else "warning",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click is missing or malformed"
            if not post
            else f"List-Unsubscribe-Post is {post!r}, not List-Unsubscribe=One-Click",
            "Without it mailbox providers cannot unsubscribe with one click (RFC 8058), "
            "which Gmail and Yahoo require of bulk senders.",
            RFC8058,
        )


def _added_message_id(raw: bytes, headers: dict[str, list[str]], hostname: str) -> bool:
    """Whether the Message-ID is the one the sandbox prepended because the sender gave none."""
    value = (_first(headers, "Message-Id") or "").strip()
    first_line = raw.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    return (
        bool(hostname) and first_line == f"Message-ID: {value}" and value.endswith(f"@{hostname}>")
    )


def _identity(
    headers: dict[str, list[str]], return_path: str, message_id_added: bool
) -> Iterator[Finding]:
    date = _first(headers, "Date")
    if date is None:
        yield Finding(
            "date-missing",
            "error",
            "No Date header",
            "Date is a required header (RFC 5322 §3.6); its absence is a spam signal.",
            RFC5322 + "#section-3.6.1",
        )
    else:
        try:
            parsed = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is None:
            yield Finding(
                "date-malformed",
                "error",
                "Date header is not an RFC 5322 date",
                "Clients sort and display by Date; a malformed one is a spam signal.",
                RFC5322 + "#section-3.3",
                (date,),
            )
    message_id = _first(headers, "Message-Id")
    if message_id is None or message_id_added:
        yield Finding(
            "message-id-missing",
            "warning" if message_id_added else "error",
            "No Message-ID header"
            + (" (mailsandbox added one on receipt)" if message_id_added else ""),
            "Gmail requires a Message-ID (RFC 5322 §3.6.4) and may reject mail without one; "
            "some relays add one, many do not.",
            GMAIL,
        )
    elif not _MESSAGE_ID.match(message_id.strip()):
        yield Finding(
            "message-id-malformed",
            "error",
            "Message-ID is not <local@domain>",
            "A malformed Message-ID breaks threading and is a spam signal.",
            RFC5322 + "#section-3.6.4",
            (message_id,),
        )
    froms = [a for _, a in getaddresses(headers.get("From") or []) if "@" in a]
    if not froms:
        yield Finding(
            "from-missing",
            "error",
            "No valid From address",
            "From is required and is what DMARC aligns against.",
            RFC5322 + "#section-3.6.2",
        )
        return
    from_domain = _domain(froms[0])
    replies = [a for _, a in getaddresses(headers.get("Reply-To") or []) if "@" in a]
    other = sorted({_domain(a) for a in replies} - {from_domain})
    if any(organizational_domain(d) != organizational_domain(from_domain) for d in other):
        yield Finding(
            "reply-to-domain-mismatch",
            "info",
            f"Reply-To domain differs from From ({from_domain})",
            "Fine when intended (a help desk), but a Reply-To on another domain is a "
            "phishing pattern filters weigh.",
            GMAIL,
            tuple(other[:MAX_EXAMPLES]),
        )
    bounce = _domain(return_path) if "@" in return_path else ""
    if bounce and organizational_domain(bounce) != organizational_domain(from_domain):
        yield Finding(
            "return-path-domain-mismatch",
            "warning",
            f"Return-Path domain ({bounce}) is not aligned with From ({from_domain})",
            "SPF then cannot align for DMARC, which rests on DKIM alone; Gmail and Yahoo "
            "require DMARC alignment of bulk senders. Use a bounce domain under your own.",
            DMARC,
        )


def _has_text_part(raw: bytes) -> bool:
    try:
        message = mime.load(raw)
    except Exception:
        return True  # unparseable: no claim about its parts
    for _path, part in mime.walk_parts(message):
        if part.get_content_type() == "text/plain" and not part.get_filename():
            if (part.get("Content-Disposition") or "").lower().startswith("attachment"):
                continue
            return True
    return False


def _is_pixel(image: htmldoc.Element) -> bool:
    width, height = (image.get("width") or "").strip(), (image.get("height") or "").strip()
    style = (image.get("style") or "").replace(" ", "").lower()
    tiny = width in ("0", "1", "0px", "1px") and height in ("0", "1", "0px", "1px")
    hidden = "display:none" in style or "width:1px;height:1px" in style
    return tiny or hidden


def _html(markup: str) -> Iterator[Finding]:
    size = len(markup.encode("utf-8", "surrogatepass"))
    if size > GMAIL_CLIP_BYTES:
        yield Finding(
            "html-clipped",
            "warning",
            f"HTML is {size / 1024:.0f} KB: Gmail clips messages over 102 KB",
            "Gmail shows only the first 102 KB of HTML and hides the rest (often the "
            "unsubscribe link and the open-tracking pixel) behind 'View entire message'.",
            GMAIL,
        )
    document = htmldoc.parse(markup)
    roots = document.find("html")
    if not roots or not (roots[0].get("lang") or "").strip():
        yield Finding(
            "html-lang-missing",
            "warning",
            "No lang attribute on <html>",
            "Screen readers pick the pronunciation from lang; without it they guess.",
            f"{WCAG}/Techniques/html/H57",
        )
    images = document.find("img")
    pixels = [i for i in images if _is_pixel(i)]
    no_alt = [
        i.get("src") or "(no src)" for i in images if i.get("alt") is None and i not in pixels
    ]
    if no_alt:
        yield Finding(
            "img-alt-missing",
            "warning",
            f"{len(no_alt)} image(s) without alt text",
            "Most clients block images by default; alt text is what readers (and screen "
            'readers) see instead. Use alt="" for decorative images.',
            f"{WCAG}/Techniques/html/H37",
            tuple(no_alt[:MAX_EXAMPLES]),
        )
    if pixels:
        yield Finding(
            "tracking-pixel",
            "info",
            "Opens are tracked only by a 1x1 pixel",
            "Pixel opens are unreliable: Apple Mail Privacy Protection loads every image "
            "(opens inflated), many clients block images (opens missed). Measure clicks.",
            "https://www.apple.com/legal/privacy/data/en/mail-privacy-protection/",
            tuple((p.get("src") or "")[:200] for p in pixels[:MAX_EXAMPLES]),
        )
    yield from _links(document)
    yield from _fonts(document)


def _links(document: htmldoc.Document) -> Iterator[Finding]:
    vague: list[str] = []
    insecure: list[str] = []
    for anchor in document.find("a"):
        href = (anchor.get("href") or "").strip()
        text = " ".join("".join(anchor.text).split())
        if href and text.lower().strip(" .!:>»→") in _VAGUE:
            vague.append(f"{text} → {href}"[:200])
        if href.lower().startswith("http://"):
            try:
                host = (urlsplit(href).hostname or "").lower()
            except ValueError:
                host = ""
            if host not in _LOOPBACK_HOSTS and not host.startswith("127."):
                insecure.append(href[:200])
    for image in document.find("img"):
        source = (image.get("src") or "").strip()
        if source.lower().startswith("http://"):
            insecure.append(source[:200])
    if vague:
        yield Finding(
            "vague-link-text",
            "info",
            f"{len(vague)} link(s) say only 'click here' or similar",
            "Link text should say where it goes: screen-reader users list links out of "
            "context, and spam filters weigh 'click here'.",
            f"{WCAG}/Understanding/link-purpose-in-context.html",
            tuple(vague[:MAX_EXAMPLES]),
        )
    if insecure:
        yield Finding(
            "insecure-link",
            "warning",
            f"{len(insecure)} http: link(s) or image(s)",
            "Plain-http links are flagged by clients and filters, and mixed content may be "
            "blocked; use https: (links to your local app are not counted).",
            GMAIL,
            tuple(insecure[:MAX_EXAMPLES]),
        )


def _fonts(document: htmldoc.Document) -> Iterator[Finding]:
    sources: Iterable[str] = [
        *(e.attrs["style"] for e in document.elements if "style" in e.attrs),
        document.style_text(),
    ]
    tiny: list[str] = []
    hidden = False
    for source in sources:
        for match in islice(_FONT_SIZE.finditer(source), 1000):
            size = float(match.group(1)) * (4 / 3 if match.group(2).lower() == "pt" else 1)
            if size < MIN_FONT_PX:
                tiny.append(match.group(0))
                hidden = hidden or size == 0
    if tiny:
        yield Finding(
            "tiny-font",
            "warning",
            "Text smaller than 12px" + (" (some at 0: hidden text)" if hidden else ""),
            "Tiny or zero-size text is hard to read on phones and a classic spam trick "
            "(hidden text) that filters penalise.",
            f"{WCAG}/Understanding/resize-text.html",
            tuple(dict.fromkeys(tiny))[:MAX_EXAMPLES],
        )


def _long_lines(raw: bytes) -> Iterator[Finding]:
    long_lines = [
        n for n, line in enumerate(raw.split(b"\n"), 1) if len(line.rstrip(b"\r")) > MAX_LINE_OCTETS
    ]
    if long_lines:
        yield Finding(
            "line-too-long",
            "error",
            f"{len(long_lines)} line(s) longer than 998 octets",
            "RFC 5322 caps lines at 998 octets; servers on the way fold or reject longer ones, "
            "which corrupts HTML. Use quoted-printable or base64.",
            RFC5322 + "#section-2.1.1",
            tuple(f"line {n}" for n in long_lines[:MAX_EXAMPLES]),
        )


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    strong: list[str]  # reasons the message is bulk mail
    weak: list[str]  # reasons it may be

    def as_json(self) -> dict[str, Any]:
        """The JSON body of ``GET /api/v1/message/{ID}/lint``."""
        counts = {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}
        return {
            "Bulk": bool(self.strong or self.weak),
            "BulkReasons": [*self.strong, *self.weak],
            "Errors": counts["error"],
            "Warnings": counts["warning"],
            "Infos": counts["info"],
            "Findings": [f.as_json() for f in self.findings],
        }


def lint(
    raw: bytes,
    headers: dict[str, list[str]],
    parsed: mime.ParsedMessage,
    *,
    recipients: int = 0,
    return_path: str = "",
    metadata: dict[str, Any] | None = None,
    sandbox_hostname: str = "",
) -> Report:
    """The findings for one message, errors first."""
    strong, weak = bulk_signals(headers, recipients, metadata or {})
    findings = [
        *_unsubscribe(headers, strong, weak),
        *_identity(
            headers,
            parsed.return_path or return_path,
            _added_message_id(raw, headers, sandbox_hostname),
        ),
        *_long_lines(raw),
    ]
    if not (_first(headers, "Subject") or "").strip():
        findings.append(
            Finding(
                "subject-missing",
                "warning",
                "No subject",
                "A message without a subject looks like spam and is hard to find later.",
                RFC5322 + "#section-3.6.5",
            )
        )
    if parsed.html:
        if not _has_text_part(raw):
            findings.append(
                Finding(
                    "text-part-missing",
                    "warning",
                    "HTML without a text/plain alternative",
                    "Some clients and filters want a plain-text version; HTML-only mail "
                    "scores worse with SpamAssassin (MIME_HTML_ONLY).",
                    "https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4",
                )
            )
        findings += _html(parsed.html)
    findings.sort(key=lambda f: SEVERITIES.index(f.severity))
    return Report(findings, strong, weak)
