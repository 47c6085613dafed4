"""``POST /api/v1/send``: real MIME in, the same fields out, Mailpit's error texts."""

from __future__ import annotations

import base64

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import PNG, error_of, send

BASE = {"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Subject": "s"}


def test_send_builds_mailpit_headers(api: httpx.Client) -> None:
    mid = send(
        api,
        "Héllo",
        From={"Email": "from@example.com", "Name": "Frôm Person"},
        To=[{"Email": "to@example.com", "Name": "To"}],
        Cc=[{"Email": "cc@example.com"}],
        Bcc=["bcc@example.com"],
        ReplyTo=[{"Email": "reply@example.com"}],
        HTML="<b>hi</b>",
        Attachments=[{"Content": base64.b64encode(PNG).decode(), "Filename": "p.png"}],
        Headers={"List-Unsubscribe": "<mailto:u@example.com>"},
    )
    headers = api.get(f"/api/v1/message/{mid}/headers").json()
    assert sorted(headers) == [
        "Bcc", "Cc", "Content-Type", "Date", "From", "List-Unsubscribe", "Message-Id",
        "Mime-Version", "Reply-To", "Return-Path", "Subject", "To",
    ]  # fmt: skip
    message = api.get(f"/api/v1/message/{mid}").json()
    assert message["From"] == {"Name": "Frôm Person", "Address": "from@example.com"}
    assert message["Subject"] == "Héllo" and message["HTML"].strip() == "<b>hi</b>"
    assert message["Bcc"] == [{"Name": "", "Address": "bcc@example.com"}]
    assert message["Attachments"][0]["ContentType"] == "image/png"  # sniffed
    assert api.get(f"/api/v1/message/{mid}/part/2").content == PNG


def test_send_tags_and_data_uri(api: httpx.Client) -> None:
    content = "data:image/png;base64," + base64.b64encode(PNG).decode()
    mid = send(api, Tags=["T1", "t2"], Attachments=[{"Content": content, "Filename": "x.png"}])
    message = api.get(f"/api/v1/message/{mid}").json()
    assert message["Tags"] == ["T1", "t2"]
    assert api.get(f"/api/v1/message/{mid}/part/2").content == PNG


def test_send_records_basic_auth_user(sandbox_factory: object) -> None:
    running: RunningSandbox = sandbox_factory(ui_auth="me:secret")  # type: ignore[operator]
    with httpx.Client(base_url=running.url, auth=("me", "secret")) as api:
        mid = api.post("/api/v1/send", json=BASE).json()["ID"]
        assert api.get(f"/api/v1/message/{mid}").json()["Username"] == "me"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"From": {"Email": ""}}, "from not set"),
        ({"From": None}, "from not set"),
        ({"To": [], "Cc": [], "Bcc": []}, "no recipients (to, cc, bcc) set"),
        ({"To": [{"Email": "not an address"}]}, "invalid To address: not an address"),
        ({"Cc": [{"Email": "x@"}]}, "invalid Cc address"),
        ({"Bcc": ["@@"]}, "invalid Bcc address"),
        ({"ReplyTo": [{"Email": "nope"}]}, "invalid Reply-To address"),
        ({"Headers": {"subject": "x"}}, 'cannot overwrite header: "subject"'),
        ({"Tags": ["a"], "Headers": {"X-Tags": "b"}}, 'cannot overwrite header: "X-Tags"'),
        (
            {"Attachments": [{"Content": "***", "Filename": "f"}]},
            'error decoding base64 attachment "f"',
        ),
        ({"To": "b@example.com"}, "cannot unmarshal"),
        ({"Headers": {"Bad Name": "x"}}, "invalid header name"),
        ({"Headers": {"X-Ok:": "x"}}, "invalid header name"),
    ],
)
def test_send_errors_are_400_json(
    shared_api: httpx.Client, changes: dict[str, object], error: str
) -> None:
    assert error in error_of(shared_api.post("/api/v1/send", json={**BASE, **changes}), 400)


def test_send_bad_bodies(api: httpx.Client) -> None:
    for content in (b"", b"[]", b"{", b"null", b'"x"'):
        assert api.post("/api/v1/send", content=content).status_code == 400, content
    assert api.get("/api/v1/messages").json()["total"] == 0


def test_send_refuses_header_injection(shared_api: httpx.Client) -> None:
    body = {**BASE, "Headers": {"X-Note": "a\r\nBcc: victim@example.com"}}
    assert shared_api.post("/api/v1/send", json=body).status_code == 400


def test_send_non_ascii_addresses(api: httpx.Client) -> None:
    mid = send(api, To=[{"Email": "jörg@exämple.com", "Name": "Jörg"}])
    message = api.get(f"/api/v1/message/{mid}").json()
    assert message["To"] == [{"Name": "Jörg", "Address": "jörg@exämple.com"}]
