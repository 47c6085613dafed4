"""A reply a rule or a manual trigger supplies (``"451 4.7.1 Greylisted"``) gives the event its
code and enhanced status, so every provider reports what the reply says (issue 12: "a manual
'451 …' deferral is 451")."""

from __future__ import annotations

import httpx

from tests.sandbox.api.helpers import send
from tests.waiting import eventually


def test_rule_and_manual_replies_set_code_and_status(api: httpx.Client) -> None:
    rule = {"recipient": "spam@*", "outcome": "bounced", "reason": "554 5.7.1 Spam"}
    assert api.post("/api/v1/rules", json=rule).status_code == 200
    message_id = send(api, To=[{"Email": "spam@example.com"}])

    def bounced() -> dict[str, object]:
        found = api.get(f"/api/v1/message/{message_id}/events").json()["events"]
        bounces = [e for e in found if e["Type"] == "bounced"]
        assert len(bounces) == 1
        return dict(bounces[0])

    event = eventually(bounced)
    assert (event["Code"], event["Details"]["status"]) == (554, "5.7.1")

    manual = {"type": "deferred", "recipient": "spam@example.com", "reason": "451 4.7.1 Later"}
    made = api.post(f"/api/v1/message/{message_id}/events", json=manual).json()
    assert (made["Code"], made["Details"]["status"], made["Reason"]) == (
        451,
        "4.7.1",
        "451 4.7.1 Later",
    )
    plain = {"type": "deferred", "recipient": "spam@example.com", "reason": "try again soon"}
    made = api.post(f"/api/v1/message/{message_id}/events", json=plain).json()
    assert made["Code"] == 421  # no reply code in the reason: the default deferral's
