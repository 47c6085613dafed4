"""Email Activity (``GET /v3/messages?query=``, ``GET /v3/messages/{msg_id}``) over the mail the
sandbox holds, and ``GET /v3/scopes``, through sendgrid-python, in the shapes of the OpenAPI
documents ``tsg_email_activity_v3`` and ``tsg_scopes_v3``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from python_http_client.exceptions import BadRequestsError, NotFoundError
from sendgrid import SendGridAPIClient

from tests.emulators.sendgrid.helpers import listed
from tests.waiting import eventually

ROW_KEYS = [
    "from_email",
    "msg_id",
    "subject",
    "to_email",
    "status",
    "opens_count",
    "clicks_count",
    "last_event_time",
]


def body_of(response: Any) -> Any:
    return json.loads(response.body)


def activity(sg: SendGridAPIClient, query: str, limit: int = 100) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = body_of(
        sg.client.messages.get(query_params={"query": query, "limit": limit})
    )["messages"]
    return found


def events_of(http: httpx.Client, message_id: str) -> list[str]:
    return [e["Type"] for e in http.get(f"/api/v1/message/{message_id}/events").json()["events"]]


@pytest.fixture
def sent(sg: SendGridAPIClient, http: httpx.Client) -> dict[str, str]:
    """Ann gets the welcome (and opens it); Bob+bounce gets an offer, which bounces."""
    welcome = {
        "personalizations": [
            {"to": [{"email": "ann@example.com"}], "custom_args": {"user": "ann"}}
        ],
        "from": {"email": "shop@example.com"},
        "subject": "Welcome aboard",
        "content": [{"type": "text/plain", "value": "Hi"}],
        "categories": ["welcome"],
        "asm": {"group_id": 7},
    }
    offer = {
        "personalizations": [{"to": [{"email": "bob+bounce@example.com"}]}],
        "from": {"email": "deals@example.com"},
        "subject": "Spring offer",
        "content": [{"type": "text/plain", "value": "50% off"}],
    }
    for mail in (welcome, offer):
        assert sg.client.mail.send.post(request_body=mail).status_code == 202
    ids = {m["To"][0]["Address"]: m["ID"] for m in listed(http)}
    eventually(lambda: "delivered" in events_of(http, ids["ann@example.com"]))
    eventually(lambda: "bounced" in events_of(http, ids["bob+bounce@example.com"]))
    opened = http.post(f"/api/v1/message/{ids['ann@example.com']}/events", json={"type": "opened"})
    assert opened.is_success
    return ids


def test_filter_messages(sg: SendGridAPIClient, sent: dict[str, str]) -> None:
    [ann] = activity(sg, 'to_email="ann@example.com"')
    assert list(ann) == ROW_KEYS
    assert (ann["status"], ann["opens_count"], ann["clicks_count"]) == ("delivered", 1, 0)
    assert (ann["from_email"], ann["subject"]) == ("shop@example.com", "Welcome aboard")
    assert ann["last_event_time"].endswith("Z")
    [bob] = activity(sg, 'status="not_delivered"')
    assert bob["to_email"] == "bob+bounce@example.com"
    assert [r["to_email"] for r in activity(sg, 'Contains(categories,"welcome")')] == [
        "ann@example.com"
    ]
    assert [r["to_email"] for r in activity(sg, "unique_args['user']=\"ann\"")] == [
        "ann@example.com"
    ]
    assert [r["to_email"] for r in activity(sg, 'subject LIKE "%offer%"')] == [
        "bob+bounce@example.com"
    ]
    assert len(activity(sg, 'from_email="shop@example.com" OR from_email="deals@example.com"')) == 2
    assert activity(sg, 'from_email="shop@example.com" AND status="not_delivered"') == []
    assert len(activity(sg, "asm_group_id=7")) == 1
    window = (
        'last_event_time BETWEEN TIMESTAMP "2000-01-01T00:00:00Z"'
        ' AND TIMESTAMP "2100-01-01T00:00:00Z"'
    )
    assert len(activity(sg, window)) == 2
    assert len(activity(sg, 'NOT (status="delivered")')) == 1
    assert len(activity(sg, 'status IN ("delivered", "not_delivered")', limit=1)) == 1
    with pytest.raises(BadRequestsError) as caught:
        activity(sg, 'bad_field="x"')
    assert (
        caught.value.to_dict["errors"][0]["message"]
        == "invalid syntax: 'bad_field' is not a known field"
    )


def test_message_detail(sg: SendGridAPIClient, sent: dict[str, str]) -> None:
    [ann] = activity(sg, 'to_email="ann@example.com"')
    detail = body_of(sg.client.messages._(ann["msg_id"]).get())
    assert detail["msg_id"] == ann["msg_id"] and detail["to_email"] == "ann@example.com"
    assert detail["categories"] == ["welcome"] and detail["asm_group_id"] == 7
    assert json.loads(detail["unique_args"]) == {"user": "ann"}
    assert [e["event_name"] for e in detail["events"]] == ["processed", "delivered", "opened"]
    [bob] = activity(sg, 'to_email="bob+bounce@example.com"')
    bounced = body_of(sg.client.messages._(bob["msg_id"]).get())["events"][-1]
    assert (bounced["event_name"], bounced["bounce_type"]) == ("bounced", "hard")
    with pytest.raises(NotFoundError):
        sg.client.messages._("nosuchmessage").get()


def test_scopes(sg: SendGridAPIClient) -> None:
    scopes = body_of(sg.client.scopes.get())["scopes"]
    assert {"mail.send", "messages.read", "asm.groups.create", "mail.batch.read"} <= set(scopes)
    assert len(scopes) == len(set(scopes))
