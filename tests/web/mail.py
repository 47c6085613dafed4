"""Messages the UI tests send: a rich one (HTML + inline image + attachment) and a hostile set."""

from __future__ import annotations

import struct
import zlib
from email.message import EmailMessage


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (37, 99, 235)) -> bytes:
    """A real (decodable) PNG, so a browser can prove it loaded it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


ATTACHMENT = bytes(range(256)) * 40 + b"end-of-attachment"


def rich_message(subject: str = "Your invoice #1042") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Billing Team <billing@shop.example>"
    msg["To"] = "Bob Example <bob@example.com>"
    msg["Cc"] = "carol@example.com"
    msg["Reply-To"] = "support@shop.example"
    msg["Subject"] = subject
    msg["X-Tags"] = "invoice, billing"
    msg.set_content("Hello Bob,\nyour invoice is attached.\nPLAIN-MARKER\n")
    msg.add_alternative(
        "<html><head><title>t</title></head><body><h1 id='h'>HTML-MARKER</h1>"
        '<p>Logo: <img id="logo" alt="logo" src="cid:logo@shop"></p></body></html>',
        subtype="html",
    )
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    html_part.add_related(tiny_png(), maintype="image", subtype="png", cid="<logo@shop>")
    msg.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="invoice.pdf")
    msg.add_attachment(tiny_png(8, 6), maintype="image", subtype="png", filename="chart.png")
    return msg


def hostile_messages(beacon: str) -> list[EmailMessage]:
    """Mail that tries to run script, phone home, redirect or post elsewhere."""
    bodies = {
        "script tag": f"<script>window.__pwned=1;alert(1);fetch('{beacon}/script')</script>ok",
        "onerror": '<img src=x onerror="window.__pwned=1;alert(2);'
        f"new Image().src='{beacon}/onerror'\">",
        "javascript url": '<a id="js" href="javascript:window.__pwned=1;alert(3)">click me</a>'
        '<a href="jav&#x61;script:alert(4)">encoded</a>',
        "svg script": f"<svg xmlns='http://www.w3.org/2000/svg'><script>window.__pwned=1;"
        f"alert(5)</script><image href='{beacon}/svg' onload='alert(6)'/></svg>",
        "meta refresh": f'<meta http-equiv="refresh" content="0;url={beacon}/refresh">refreshing',
        "form": f'<form id="f" action="{beacon}/form" method="post"><input name="a" value="1">'
        '<button id="go" type="submit">Go</button></form>'
        "<script>document.getElementById('f').submit()</script>",
        "iframe and object": f'<iframe src="{beacon}/iframe"></iframe><object data="{beacon}/obj">'
        f'</object><link rel="stylesheet" href="{beacon}/css.css">',
    }
    messages = []
    for name, body in bodies.items():
        msg = EmailMessage()
        msg["From"] = f'"<img src=x onerror=alert(7)>{name}" <evil@attacker.example>'
        msg["To"] = "victim@example.com"
        msg["Subject"] = f"<script>alert('subject')</script><b>{name}</b>"
        msg.set_content("text part")
        msg.add_alternative(f"<html><body>{body}</body></html>", subtype="html")
        messages.append(msg)
    return messages
