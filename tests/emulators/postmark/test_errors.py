"""Postmark's refusals, each in its documented shape (``{"ErrorCode", "Message"}``, 422 for
request errors, 401 for tokens): a refused request stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.emulators.postmark.conftest import HEADERS, message


@pytest.fixture(scope="module")
def client(shared: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared.url, headers=HEADERS, timeout=30) as http:
        yield http


def many(n: int) -> str:
    return ", ".join(f"r{i}@example.com" for i in range(n))


REFUSED: list[tuple[dict[str, Any], int, str]] = [
    ({"From": ""}, 300, "Invalid 'From' address: ''."),
    ({"From": "nobody"}, 300, "Invalid 'From' address: 'nobody'."),
    ({"To": ""}, 300, "Zero recipients specified"),
    ({"To": "ann"}, 300, "Error parsing 'To': Illegal email address 'ann'. It must contain"),
    ({"Cc": "x@bad_domain"}, 300, "Error parsing 'Cc': Illegal email domain 'bad_domain'"),
    ({"To": many(30), "Bcc": many(21)}, 300, "Maximum of 50 recipients"),
    ({"ReplyTo": "nope"}, 300, "Error parsing 'Reply-To': Illegal email address 'nope'."),
    ({"TextBody": ""}, 300, "Provide either email TextBody or HtmlBody or both."),
    ({"Metadata": {"k": "v" * 81}}, 300, "Invalid metadata content."),
    ({"Metadata": {"nested": {"a": 1}}}, 300, "Invalid metadata content."),
    ({"TrackLinks": "Always"}, 300, "Invalid 'TrackLinks' value: 'Always'."),
    ({"TrackOpens": "yes"}, 300, "Invalid 'TrackOpens' value"),
    ({"Tag": "t" * 1001}, 300, "The 'Tag' field is too long"),
    ({"Attachments": [{"Name": "x.exe", "Content": "AA==", "ContentType": "x/y"}]}, 411,
     "Forbidden attachment type: 'x.exe'."),
    ({"Attachments": [{"Name": "a.txt", "Content": "not base64!"}]}, 300,
     "The attachment 'a.txt' has no valid base64"),
    ({"MessageStream": "nope"}, 1235, "The message stream 'nope' was not found"),
    ({"MessageStream": "inbound"}, 1235, "The message stream 'inbound' was not found"),
    ({"From": "me@example.invalid"}, 400,
     "The 'From' address you supplied (me@example.invalid) is not a Sender Signature"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "code", "text"), REFUSED)
def test_send_refusals(client: httpx.Client, fields: dict[str, Any], code: int, text: str) -> None:
    response = client.post("/email", json=message(**fields))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["ErrorCode"] == code and body["Message"].startswith(text), body


def test_body_refusals(client: httpx.Client) -> None:
    broken = client.post(
        "/email", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json() == {
        "ErrorCode": 402, "Message": "Received invalid JSON input."
    }  # fmt: skip
    form = client.post("/email", data={"From": "a@example.com"})
    assert form.status_code == 422 and form.json()["ErrorCode"] == 409
    batch = client.post("/email/batch", json=[message()] * 501)
    assert batch.status_code == 422 and batch.json()["ErrorCode"] == 410
    not_list = client.post("/email/batch", json=message())
    assert not_list.status_code == 422 and not_list.json()["ErrorCode"] == 300


def test_template_refusals(client: httpx.Client) -> None:
    plain = {k: v for k, v in message().items() if k not in ("Subject", "TextBody")}
    unknown = client.post("/email/withTemplate", json={**plain, "TemplateAlias": "nope"})
    assert unknown.status_code == 422 and unknown.json()["ErrorCode"] == 1101
    both = {**message(), "TemplateId": 1, "TemplateModel": {}}
    assert client.post("/email/withTemplate", json=both).json()["ErrorCode"] == 1123
    assert client.post("/email/withTemplate", json=plain).json()["ErrorCode"] == 300
    created = client.post("/templates", json={"Name": "x"})
    assert created.json() == {"ErrorCode": 1120, "Message": "The 'Subject' field is required."}
    layout = {"Name": "L", "TemplateType": "Layout", "HtmlBody": "<div>no placeholder</div>"}
    assert client.post("/templates", json=layout).json()["ErrorCode"] == 1131
    assert client.get("/templates/404").json()["ErrorCode"] == 1101


def test_unknown_paths_and_methods_answer_as_postmark(client: httpx.Client) -> None:
    missing = client.get("/email/nothing-here")
    assert missing.status_code == 404 and missing.json()["ErrorCode"] == 12
    wrong = client.get("/email")
    assert wrong.status_code == 405 and wrong.json()["ErrorCode"] == 12
    assert client.get("/messages/outbound/nope/details").json()["ErrorCode"] == 701
    assert client.get("/bounces/12345").json()["ErrorCode"] == 1001
    assert client.get("/message-streams/nope").json()["ErrorCode"] == 1226
    assert client.get("/webhooks/999").json()["ErrorCode"] == 12
    bad_url = client.post("/webhooks", json={"Url": "ftp://example.com"})
    assert bad_url.json()["ErrorCode"] == 606


def test_nothing_was_stored(client: httpx.Client) -> None:
    """Every request of this module was refused: none left a message."""
    assert client.get("/api/v1/messages").json()["total"] == 0
