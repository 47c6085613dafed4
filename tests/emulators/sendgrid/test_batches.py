"""Batch ids and scheduled sends through sendgrid-python (OpenAPI ``tsg_mail_v3`` and
``tsg_scheduled_sends_v3``), and an unknown but well-formed ``template_id``: accepted, then
dropped ("Invalid SMTPAPI header", sendgrid/docs#69, sendgrid-go#255)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from python_http_client.exceptions import BadRequestsError
from sendgrid import SendGridAPIClient

from mailsandbox.events.schedule import HELD
from mailsandbox.runner import RunningSandbox
from tests.emulators.sendgrid.helpers import listed, mail_body
from tests.waiting import eventually


def body_of(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def steps(running: RunningSandbox, message_id: str) -> list[float]:
    """The due times of a message's pending lifecycle steps."""
    rows = running.sandbox.db.read_sync(
        lambda conn: conn.execute(
            "SELECT due FROM event_schedule WHERE message_id = ?", (message_id,)
        ).fetchall()
    )
    return [float(row[0]) for row in rows]


def event_types(http: httpx.Client, message_id: str) -> list[str]:
    found = http.get(f"/api/v1/message/{message_id}/events").json()["events"]
    return [e["Type"] for e in found]


def send_in(http: httpx.Client, batch_id: str, to: str, send_at: int) -> str:
    body = mail_body(batch_id=batch_id, send_at=send_at)
    body["personalizations"][0]["to"] = [{"email": to}]
    assert http.post("/v3/mail/send", json=body).status_code == 202
    return next(m["ID"] for m in listed(http) if m["To"][0]["Address"] == to)


def test_batch_ids(sg: SendGridAPIClient) -> None:
    created = sg.client.mail.batch.post()
    assert created.status_code == 201
    batch_id = body_of(created)["batch_id"]
    assert len(batch_id) == 32 and batch_id.isalnum()
    assert body_of(sg.client.mail.batch._(batch_id).get()) == {"batch_id": batch_id}
    with pytest.raises(BadRequestsError) as caught:
        sg.client.mail.batch._("nosuchbatch").get()
    assert caught.value.to_dict == {
        "errors": [{"message": "invalid batch id", "field": None, "help": None}]
    }


def test_pause_holds_and_resuming_releases(
    running: RunningSandbox, sg: SendGridAPIClient, http: httpx.Client
) -> None:
    batch_id = body_of(sg.client.mail.batch.post())["batch_id"]
    paused = sg.client.user.scheduled_sends.post(
        request_body={"batch_id": batch_id, "status": "pause"}
    )
    assert paused.status_code == 201
    assert body_of(paused) == {"batch_id": batch_id, "status": "pause"}
    listed_statuses = body_of(sg.client.user.scheduled_sends.get())
    assert listed_statuses == [{"batch_id": batch_id, "status": "pause"}]
    with pytest.raises(BadRequestsError):  # a status already: update or delete it
        sg.client.user.scheduled_sends.post(request_body={"batch_id": batch_id, "status": "cancel"})

    message_id = send_in(http, batch_id, "held@example.com", int(time.time()))
    assert steps(running, message_id) and min(steps(running, message_id)) >= HELD  # held
    assert event_types(http, message_id) == ["queued"]

    assert sg.client.user.scheduled_sends._(batch_id).delete().status_code == 204
    eventually(lambda: "delivered" in event_types(http, message_id))
    assert body_of(sg.client.user.scheduled_sends.get()) == []


def test_cancel_discards_what_fell_due_and_keeps_the_rest(
    running: RunningSandbox, sg: SendGridAPIClient, http: httpx.Client
) -> None:
    batch_id = body_of(sg.client.mail.batch.post())["batch_id"]
    sg.client.user.scheduled_sends.post(request_body={"batch_id": batch_id, "status": "pause"})
    patched = sg.client.user.scheduled_sends._(batch_id).patch(request_body={"status": "cancel"})
    assert patched.status_code == 204
    status = body_of(sg.client.user.scheduled_sends._(batch_id).get())
    assert status == [{"batch_id": batch_id, "status": "cancel"}]
    due = send_in(http, batch_id, "due@example.com", int(time.time()) - 5)
    later = int(time.time()) + 3600
    ahead = send_in(http, batch_id, "ahead@example.com", later)
    assert min(steps(running, due)) >= HELD and min(steps(running, ahead)) >= HELD

    assert sg.client.user.scheduled_sends._(batch_id).delete().status_code == 204
    assert steps(running, due) == []  # its send_at passed while cancelled: discarded
    assert event_types(http, due) == ["queued"]
    assert min(steps(running, ahead)) == pytest.approx(later + 0.05, abs=2)  # still scheduled


def test_unknown_template_is_accepted_then_dropped(
    sg: SendGridAPIClient, http: httpx.Client
) -> None:
    body = mail_body(template_id="d-" + "0" * 32, content=None, subject=None)
    body = {k: v for k, v in body.items() if v is not None}
    body["personalizations"][0]["dynamic_template_data"] = {"name": "Bob"}
    assert sg.client.mail.send.post(request_body=body).status_code == 202
    [message] = listed(http)

    def dropped() -> list[dict[str, Any]]:
        found = http.get(f"/api/v1/message/{message['ID']}/events").json()["events"]
        return [e for e in found if e["Type"] == "rejected"]

    found = eventually(dropped)
    assert found[0]["Reason"] == "Invalid SMTPAPI header"
    assert found[0]["Recipient"] == "bob@example.com"
