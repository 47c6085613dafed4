"""One message: JSON, headers, raw, parts (byte-identical), thumbnails, ``latest``, 404s."""

from __future__ import annotations

import base64
import hashlib

import httpx

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import MESSAGE_KEYS, PNG, error_of, send, smtp_send

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def _rich(api: httpx.Client) -> str:
    return send(
        api,
        "Rich <mail> & more",
        HTML='<p>Hello <img src="cid:logo@x"> <a href="https://example.com">link</a></p>',
        Cc=[{"Email": "cc@example.com", "Name": "Cee"}],
        ReplyTo=[{"Email": "reply@example.com"}],
        Attachments=[
            {
                "Content": base64.b64encode(PNG).decode(),
                "Filename": "logo.png",
                "ContentID": "logo@x",
            },
            {"Content": base64.b64encode(PDF).decode(), "Filename": "doc.pdf"},
        ],
        Headers={"List-Unsubscribe": "<mailto:unsub@example.com>, <https://example.com/u>"},
    )


def test_get_message_shape_and_marks_read(api: httpx.Client) -> None:
    mid = _rich(api)
    response = api.get(f"/api/v1/message/{mid}")
    assert response.status_code == 200 and response.text.endswith("\n")
    message = response.json()
    assert list(message) == MESSAGE_KEYS
    assert message["Subject"] == "Rich <mail> & more"
    assert message["Cc"] == [{"Name": "Cee", "Address": "cc@example.com"}]
    assert message["Bcc"] == [] and message["ReturnPath"] == "sender@example.com"
    assert message["Text"].strip() == "Body of Rich <mail> & more"
    assert 'src="cid:logo@x"' in message["HTML"]
    assert message["ListUnsubscribe"] == {
        "Header": "<mailto:unsub@example.com>, <https://example.com/u>",
        "Links": ["mailto:unsub@example.com", "https://example.com/u"],
        "Errors": "",
        "HeaderPost": "",
    }
    [inline] = message["Inline"]
    [attachment] = message["Attachments"]
    assert list(attachment) == [
        "PartID",
        "FileName",
        "ContentType",
        "ContentID",
        "Size",
        "Checksums",
    ]
    assert (inline["PartID"], inline["ContentID"], inline["FileName"]) == (
        "1.2",
        "logo@x",
        "logo.png",
    )
    assert (attachment["PartID"], attachment["ContentType"]) == ("2", "application/pdf")
    assert attachment["Size"] == len(PDF)
    assert attachment["Checksums"]["SHA256"] == hashlib.sha256(PDF).hexdigest()
    assert api.get("/api/v1/messages").json()["messages"][0]["Read"] is True


def test_parts_are_byte_identical(api: httpx.Client) -> None:
    mid = _rich(api)
    pdf = api.get(f"/api/v1/message/{mid}/part/2")
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["content-disposition"] == 'attachment; filename="doc.pdf"'
    png = api.get(f"/api/v1/message/{mid}/part/1.2")
    assert png.content == PNG and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"].startswith("inline")
    assert error_of(api.get(f"/api/v1/message/{mid}/part/9"), 404) == "Part not found"
    # Reading parts does not mark the message read.
    assert api.get("/api/v1/messages").json()["unread"] == 1


def test_html_parts_are_never_served_inline(running: RunningSandbox, api: httpx.Client) -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: evil\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n'
        b"--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--x\r\nContent-Type: text/html\r\nContent-Disposition: inline; filename=a.html\r\n\r\n"
        b"<script>alert(1)</script>\r\n--x--\r\n"
    )
    smtp_send(running, raw)
    mid = api.get("/api/v1/messages").json()["messages"][0]["ID"]
    part = api.get(f"/api/v1/message/{mid}/part/2")
    assert part.content.startswith(b"<script>")
    assert part.headers["content-disposition"].startswith("attachment")
    policy = part.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


def test_thumbnail_is_a_jpeg(api: httpx.Client) -> None:
    mid = _rich(api)
    thumb = api.get(f"/api/v1/message/{mid}/part/1.2/thumb")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content[:3] == b"\xff\xd8\xff" and thumb.content[-2:] == b"\xff\xd9"
    assert b"\xff\xc0\x00\x11\x08\x00\x78\x00\xb4" in thumb.content  # SOF0: 120 x 180
    assert api.get(f"/api/v1/message/{mid}/part/7/thumb").status_code == 400
    assert api.get("/api/v1/message/latest/part/1.2/thumb").status_code == 400


def test_headers_are_canonical_and_sorted(running: RunningSandbox, api: httpx.Client) -> None:
    raw = (
        b"from: a@example.com\r\nTO: b@example.com\r\nsubject: =?utf-8?q?caf=C3=A9?=\r\n"
        b"x-custom-thing: one\r\nX-Custom-Thing: two\r\nDKIM-Signature: v=1;\r\n  folded=yes\r\n"
        b"MIME-Version: 1.0\r\n\r\nbody\r\n"
    )
    smtp_send(running, raw)
    mid = api.get("/api/v1/messages").json()["messages"][0]["ID"]
    headers = api.get(f"/api/v1/message/{mid}/headers").json()
    assert list(headers) == sorted(headers)
    assert headers["X-Custom-Thing"] == ["one", "two"]
    assert headers["Dkim-Signature"] == ["v=1; folded=yes"]
    assert headers["Subject"] == ["=?utf-8?q?caf=C3=A9?="]
    assert "Message-Id" in headers and "Mime-Version" in headers and "To" in headers


def test_raw_and_download(api: httpx.Client) -> None:
    mid = send(api, "raw one")
    raw = api.get(f"/api/v1/message/{mid}/raw")
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert b"Subject: raw one\r\n" in raw.content
    assert "content-disposition" not in raw.headers
    download = api.get(f"/api/v1/message/{mid}/raw", params={"dl": "1"})
    assert download.headers["content-disposition"] == f'attachment; filename="{mid}.eml"'


def test_latest_alias_with_query(api: httpx.Client) -> None:
    assert error_of(api.get("/api/v1/message/latest"), 404) == "Message not found"
    first = send(api, "alpha")
    second = send(api, "beta")
    assert api.get("/api/v1/message/latest").json()["ID"] == second
    latest_alpha = api.get("/api/v1/message/latest", params={"query": "subject:alpha"})
    assert latest_alpha.json()["ID"] == first
    assert api.get("/api/v1/message/latest/raw", params={"query": "alpha"}).status_code == 200
    assert api.get("/api/v1/message/latest", params={"query": "subject:zzz"}).status_code == 404
    assert error_of(api.get("/api/v1/message/latest", params={"query": "a\x00"}), 400)


def test_unknown_ids_are_404_json(api: httpx.Client) -> None:
    for path in ("", "/headers", "/raw", "/part/1"):
        assert error_of(api.get(f"/api/v1/message/nope{path}"), 404) == "Message not found"
    odd = api.get("/api/v1/message/%27%22%3Cx%3E%00")
    assert odd.status_code == 404


def test_unparseable_message_is_still_served(running: RunningSandbox, api: httpx.Client) -> None:
    smtp_send(running, b"\xff\xfe garbage without headers \x00\r\n\r\n\x80\x81")
    mid = api.get("/api/v1/messages").json()["messages"][0]["ID"]
    assert api.get(f"/api/v1/message/{mid}").status_code == 200
    assert api.get(f"/api/v1/message/{mid}/headers").status_code == 200
    assert api.get(f"/view/{mid}.txt").status_code == 200


def test_date_is_the_received_time_without_a_date_header(
    api: httpx.Client, running: RunningSandbox
) -> None:
    """Mailpit's GetMessage: "If the message lacks a date header, then the received datetime
    is used" (internal/storage/messages.go)."""
    smtp_send(running, b"From: a@example.com\r\nTo: b@example.com\r\nSubject: undated\r\n\r\nx\r\n")
    (summary,) = api.get("/api/v1/messages").json()["messages"]
    message = api.get(f"/api/v1/message/{summary['ID']}").json()
    assert message["Date"] == summary["Created"]
    assert "Date" not in api.get(f"/api/v1/message/{summary['ID']}/headers").json()
