"""Batch sends: ``%recipient.KEY%`` with keys that contain colons, ``%recipient%``,
``%recipient_email%`` and ``%recipient_name%`` (user manual, "Batch Sending" and "Mailing
Lists" variables), substituted in the subject, bodies, ``h:`` headers and ``v:`` variables of
each recipient's message; the variables reach that recipient's events (user manual: "given a
variable of ``v:recipient-id=%recipient.id%`` ... events and webhooks associated with the
recipient will contain ``{"recipient-id": "123"}``")."""

from __future__ import annotations

import json

import httpx
from mailgun.client import Client

from tests.emulators.mailgun.conftest import DOMAIN, raw_message, stored, wait_for_events


def test_recipient_variables_everywhere(mg: Client, api: httpx.Client) -> None:
    variables = {
        "ann@example.com": {"v:cust": "C-1", "h:X-Ref": "R-1", "id": 123},
        "bob@example.com": {"v:cust": "C-2"},
    }
    answer = mg.messages.create(
        domain=DOMAIN,
        data={
            "from": f"shop@{DOMAIN}",
            "to": ["Ann Smith <ann@example.com>", "bob@example.com"],
            "subject": "Hi %recipient_name% (%recipient.id%)",
            "text": "To %recipient% at %recipient_email%: %recipient.v:cust%",
            "v:cust": "%recipient.v:cust%",
            "v:recipient-id": "%recipient.id%",
            "v:fixed": "same",
            "h:X-Ref": "%recipient.h:X-Ref%",
            "recipient-variables": json.dumps(variables),
        },
    )
    assert answer.status_code == 200, answer.text
    by_to = {m["To"][0]["Address"]: m for m in stored(api)}
    ann, bob = (raw_message(api, by_to[a]["ID"]) for a in ("ann@example.com", "bob@example.com"))
    assert ann["Subject"] == "Hi Ann Smith (123)"
    assert ann.get_content().strip() == "To Ann Smith <ann@example.com> at ann@example.com: C-1"
    assert (ann["X-Ref"], bob["X-Ref"]) == ("R-1", "")
    assert json.loads(ann["X-Mailgun-Variables"]) == {
        "cust": "C-1",
        "recipient-id": "123",
        "fixed": "same",
    }
    assert json.loads(bob["X-Mailgun-Variables"]) == {
        "cust": "C-2",
        "recipient-id": "",
        "fixed": "same",
    }
    assert bob["Subject"] == "Hi  ()"

    found = wait_for_events(mg, 4)  # accepted + delivered for each
    for item in found:
        expected = "C-1" if item["recipient"] == "ann@example.com" else "C-2"
        assert item["user-variables"]["cust"] == expected
