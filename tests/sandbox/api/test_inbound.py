"""Mail sent *in* through the REST API and the Python client: ``POST /api/v1/inbound`` (compose
and reply), ``GET /api/v1/message/{id}/inbound``, the ``is:inbound`` search, ``Client.inbound``
and ``Client.reply`` (inbox-bound, with inline and attached files), and durability: deliveries
written with the message survive a kill -9 right after the 250."""

from __future__ import annotations

import base64
import smtplib
from pathlib import Path

import httpx
import pytest

from mailsandbox.client import Client, File
from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import PNG, error_of, send
from tests.sandbox.events.receiver import Receiver
from tests.sandbox.serve_process import free_port, start_serve
from tests.sandbox.smtp.helpers import deliver
from tests.waiting import eventually

BASE = {"From": {"Email": "ann@example.com", "Name": "Ann"}, "To": [{"Email": "help@in.test"}]}


def inbound(api: httpx.Client, **fields: object) -> str:
    answer = api.post("/api/v1/inbound", json={**BASE, "Subject": "Hi", "Text": "Hello", **fields})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["ID"])


def test_compose_is_stored_listed_and_labelled_inbound(api: httpx.Client) -> None:
    sent_in = inbound(api, Subject="Sent in", Inbox="support")
    mailpit = send(api, "Mailpit send")
    message = api.get(f"/api/v1/message/{sent_in}").json()
    assert message["Subject"] == "Sent in" and message["From"]["Address"] == "ann@example.com"
    assert message["Text"].strip() == "Hello"
    found = api.get("/api/v1/search", params={"query": "is:inbound"}).json()
    assert [m["ID"] for m in found["messages"]] == [sent_in]
    others = api.get("/api/v1/search", params={"query": "-is:inbound"}).json()
    assert [m["ID"] for m in others["messages"]] == [mailpit]
    assert api.get(f"/api/v1/message/{sent_in}/inbound").json() == {"Inbound": True, "Matches": []}
    assert api.get(f"/api/v1/message/{mailpit}/inbound").json() == {
        "Inbound": False,
        "Matches": [],
    }
    inboxes = {i["Name"]: i["Messages"] for i in api.get("/api/v1/inboxes").json()["inboxes"]}
    assert inboxes["support"] == 1


def test_reply_is_completed_like_a_mail_client_does(api: httpx.Client) -> None:
    original = send(
        api,
        "Your order",
        From={"Email": "shop@example.com", "Name": "Shop"},
        To=[{"Email": "ann@example.com", "Name": "Ann"}],
        ReplyTo=[{"Email": "reply+7@in.test"}],
        Text="It shipped.\n\nRegards",
    )
    reply = inbound(api, InReplyTo=original, From=None, To=None, Subject=None, Text="Thanks!")
    headers = api.get(f"/api/v1/message/{reply}/headers").json()
    original_id = api.get(f"/api/v1/message/{original}").json()["MessageID"]
    assert headers["From"] == ["Ann <ann@example.com>"] and headers["To"] == ["reply+7@in.test"]
    assert headers["Subject"] == ["Re: Your order"]
    assert headers["In-Reply-To"] == [f"<{original_id}>"]
    assert headers["References"] == [f"<{original_id}>"]
    text = api.get(f"/api/v1/message/{reply}").json()["Text"]
    assert text.startswith(
        "Thanks!\r\n\r\nOn "
    ) and "Shop wrote:\r\n> It shipped.\r\n>\r\n> Regards" in (text)
    again = inbound(api, InReplyTo=reply, From=None, To=None, Subject=None, Text="More")
    again_headers = api.get(f"/api/v1/message/{again}/headers").json()
    assert again_headers["Subject"] == ["Re: Your order"]  # no "Re: Re:"
    reply_id = api.get(f"/api/v1/message/{reply}").json()["MessageID"]
    assert again_headers["References"] == [f"<{original_id}> <{reply_id}>"]


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"To": [{"Email": "b@in.test"}]}, 400, "from not set"),
        ({"From": {"Email": "a@example.com"}}, 400, "no recipients"),
        ({**BASE, "InReplyTo": "nope"}, 404, "InReplyTo: message not found"),
        ({**BASE, "Inbox": 7}, 400, "Inbox"),
        ({**BASE, "Attachments": [{"Content": "%%%", "Filename": "x"}]}, 400, "base64"),
    ],
)
def test_bad_bodies_are_refused(
    shared_api: httpx.Client, body: dict[str, object], status: int, text: str
) -> None:
    assert text in error_of(shared_api.post("/api/v1/inbound", json=body), status)
    assert shared_api.get("/api/v1/messages").json()["messages_count"] == 0


def test_client_inbound_and_reply_in_a_bound_inbox(running: RunningSandbox) -> None:
    with Client(running.url).inbox("helpdesk") as helpdesk:
        photo = File("photo.png", PNG, content_id="photo1")
        pdf = File("invoice.pdf", b"%PDF-1.4 test")
        first = helpdesk.inbound(
            "support@in.test",
            "Broken",
            "See attached.",
            html='<p>See <img src="cid:photo1"></p>',
            from_="Zoë <zoe@example.com>",
            attachments=[photo, pdf],
        )
        assert first.from_.name == "Zoë" and first.to[0].address == "support@in.test"
        assert [a.filename for a in first.attachments] == ["invoice.pdf"]
        assert [(a.filename, a.content_id) for a in first.inline] == [("photo.png", "photo1")]
        assert helpdesk.attachment(first, first.inline[0].part_id) == PNG
        answer = helpdesk.reply(first, "We are on it.", from_="support@in.test")
        assert answer.subject == "Re: Broken" and answer.to[0].address == "zoe@example.com"
        assert answer.text.startswith("We are on it.") and "> See attached." in answer.text
        assert {m.id for m in helpdesk.messages()} == {first.id, answer.id}


def test_deliveries_written_with_the_message_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "inbound.db"
    port = free_port()
    server = start_serve(db, "--webhook-retry-schedule", "0.2s")
    try:
        setting = {"hostname": "in.test", "url": f"http://127.0.0.1:{port}/parse"}
        created = httpx.post(f"{server.url}/v3/user/webhooks/parse/settings", json=setting)
        assert created.status_code == 201
        raw = b"From: ann@example.com\r\nTo: help@in.test\r\nSubject: Crash\r\n\r\nBody\r\n"
        with smtplib.SMTP("127.0.0.1", server.smtp_port) as client:
            message = deliver(client, raw, ["help@in.test"], "ann@example.com")
        server.proc.kill()  # right after the 250: nothing could be delivered (nobody listens)
        server.proc.wait(10)
    finally:
        server.stop()
    with Receiver(port=port) as app:
        restarted = start_serve(db, "--webhook-retry-schedule", "0.2s")
        try:
            [post] = app.wait_for(1)
            assert b"Crash" in post.body

            def delivered() -> bool:
                answer = httpx.get(f"{restarted.url}/api/v1/message/{message}/inbound").json()
                return bool(answer["Matches"][0]["Deliveries"][0]["State"] == "delivered")

            assert eventually(delivered)
        finally:
            restarted.stop()
    assert len(app.requests) == 1


def test_attachment_content_round_trips_base64(api: httpx.Client) -> None:
    data = base64.b64encode(b"\x00\x01binary\xff").decode()
    sent_in = inbound(api, Attachments=[{"Content": data, "Filename": "blob.bin"}])
    [part] = api.get(f"/api/v1/message/{sent_in}").json()["Attachments"]
    assert api.get(f"/api/v1/message/{sent_in}/part/{part['PartID']}").content == (
        b"\x00\x01binary\xff"
    )
