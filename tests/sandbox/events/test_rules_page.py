"""The Rules & webhooks page over real HTTP: listing, adding (with validation) and deleting
rules through same-origin form POSTs, the signing keys, and replaying a webhook attempt."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from mailsandbox.runner import RunningSandbox
from tests.sandbox.events.conftest import smtp_send
from tests.sandbox.events.receiver import Receiver


def test_page_lists_rules_and_keys(running: RunningSandbox, api: httpx.Client) -> None:
    api.post("/api/v1/rules", json={"recipient": "*@flaky.test", "outcome": "deferred"})
    page = api.get("/ui/rules")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "*@flaky.test" in page.text and "deferred" in page.text
    signer = running.sandbox.extensions["sendgrid.signer"]
    assert signer.public_key_b64 in page.text
    assert running.sandbox.extensions["mailgun.signer"].key in page.text
    assert 'href="/ui/rules"' in api.get("/").text  # in the header navigation


def test_add_and_delete_rule_with_forms(running: RunningSandbox, api: httpx.Client) -> None:
    origin = {"Origin": running.url}
    form = {
        "stage": "RCPT",
        "recipient": "*@blocked.test",
        "reply": "550 5.1.2 Nope",
        "outcome": "delivered",
        "probability": "100",
        "delay": "0",
    }
    added = api.post("/ui/rules", data=form, headers=origin)
    assert added.status_code == 303 and added.headers["location"] == "/ui/rules"
    (rule,) = api.get("/api/v1/rules").json()["rules"]
    assert (rule["stage"], rule["reply"], rule["recipient"]) == (
        "RCPT",
        "550 5.1.2 Nope",
        "*@blocked.test",
    )
    bad = api.post("/ui/rules", data={**form, "reply": "hello"}, headers=origin)
    assert bad.status_code == 400 and "reply must be" in bad.text
    assert api.post("/ui/rules", data={**form, "delay": "soon"}, headers=origin).status_code == 400
    foreign = api.post("/ui/rules", data=form, headers={"Origin": "http://evil.test"})
    assert foreign.status_code == 403
    deleted = api.post(f"/ui/rules/{rule['id']}/delete", headers=origin)
    assert deleted.status_code == 303
    assert api.get("/api/v1/rules").json() == {"rules": []}


def test_replay_from_the_page(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    running = sandbox_factory(webhook_url=[receiver.url + "/new"])
    smtp_send(running, ["bob@example.com"])
    receiver.wait_for(1)
    with httpx.Client(base_url=running.url) as api:
        page = api.get("/ui/rules").text.replace("<wbr>", "")  # URLs break after / . ? & =
        assert receiver.url + "/new" in page and "Replay" in page
        outbox_id = api.get("/api/v1/webhooks/deliveries").json()["deliveries"][0]["ID"]
        replayed = api.post(f"/ui/webhooks/{outbox_id}/replay", headers={"Origin": running.url})
        assert replayed.status_code == 303
    assert len(receiver.wait_for(2)) == 2
