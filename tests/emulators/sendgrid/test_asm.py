"""Unsubscribe groups through sendgrid-python's ``asm`` calls (OpenAPI ``tsg_suppressions_v3``
shapes and statuses), and what they do to sends with ``asm.group_id``: a group-suppressed
address is dropped; an unsubscribe from such a send is a ``group_unsubscribe`` (into the
group, not the global list) and removing the address from the group a ``group_resubscribe``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from python_http_client.exceptions import NotFoundError
from sendgrid import SendGridAPIClient

from mailsandbox.runner import RunningSandbox
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

FLAGS = ("processed", "delivered", "dropped", "unsubscribe", "group_unsubscribe")


def body_of(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def send(sg: SendGridAPIClient, to: list[str], group: int | None) -> None:
    mail: dict[str, Any] = {
        "personalizations": [{"to": [{"email": a}]} for a in to],
        "from": {"email": "news@example.com"},
        "subject": "News",
        "content": [{"type": "text/plain", "value": "This week"}],
    }
    if group is not None:
        mail["asm"] = {"group_id": group, "groups_to_display": [group]}
    assert sg.client.mail.send.post(request_body=mail).status_code == 202


def sendgrid_events(receiver: Receiver) -> list[dict[str, Any]]:
    return [e for r in receiver.accepted for e in r.json()]


def test_group_crud_through_sendgrid_python(sg: SendGridAPIClient) -> None:
    created = sg.client.asm.groups.post(
        request_body={"name": "Newsletters", "description": "Weekly news", "is_default": True}
    )
    assert created.status_code == 201
    group = body_of(created)
    assert group == {
        "id": group["id"],
        "name": "Newsletters",
        "description": "Weekly news",
        "is_default": True,
    }
    other = body_of(sg.client.asm.groups.post(request_body={"name": "Offers", "is_default": True}))
    listed = body_of(sg.client.asm.groups.get())
    assert [(g["name"], g["is_default"], g["unsubscribes"]) for g in listed] == [
        ("Newsletters", False, 0),  # one default group at a time
        ("Offers", True, 0),
    ]
    patched = sg.client.asm.groups._(group["id"]).patch(request_body={"name": "News"})
    assert patched.status_code == 201 and body_of(patched)["name"] == "News"
    assert body_of(sg.client.asm.groups._(group["id"]).get())["name"] == "News"
    only = sg.client.asm.groups.get(query_params={"id": other["id"]})
    assert [g["id"] for g in body_of(only)] == [other["id"]]

    added = sg.client.asm.groups._(group["id"]).suppressions.post(
        request_body={"recipient_emails": ["a@example.com", "b@example.com"]}
    )
    assert added.status_code == 201
    assert body_of(added) == {"recipient_emails": ["a@example.com", "b@example.com"]}
    members = body_of(sg.client.asm.groups._(group["id"]).suppressions.get())
    assert sorted(members) == ["a@example.com", "b@example.com"]
    searched = sg.client.asm.groups._(group["id"]).suppressions.search.post(
        request_body={"recipient_emails": ["a@example.com", "z@example.com"]}
    )
    assert body_of(searched) == ["a@example.com"]
    every = body_of(sg.client.asm.suppressions.get())
    assert {(s["email"], s["group_id"], s["group_name"]) for s in every} == {
        ("a@example.com", group["id"], "News"),
        ("b@example.com", group["id"], "News"),
    }
    of_a = body_of(sg.client.asm.suppressions._("a@example.com").get())["suppressions"]
    assert [(s["name"], s["suppressed"]) for s in of_a] == [("News", True), ("Offers", False)]
    gone = sg.client.asm.groups._(group["id"]).suppressions._("a@example.com").delete()
    assert gone.status_code == 204
    assert body_of(sg.client.asm.groups._(group["id"]).suppressions.get()) == ["b@example.com"]
    assert sg.client.asm.groups._(group["id"]).delete().status_code == 204
    with pytest.raises(NotFoundError):
        sg.client.asm.groups._(group["id"]).get()
    assert body_of(sg.client.asm.suppressions.get()) == []  # its suppressions went with it


def test_group_suppression_drops_and_unsubscribes_go_to_the_group(
    running: RunningSandbox, sg: SendGridAPIClient, http: httpx.Client
) -> None:
    with Receiver() as receiver:
        settings = {"enabled": True, "url": receiver.url, **dict.fromkeys(FLAGS, True)}
        settings["group_resubscribe"] = True
        assert (
            sg.client.user.webhooks.event.settings.patch(request_body=settings).status_code == 200
        )
        group = body_of(sg.client.asm.groups.post(request_body={"name": "Weekly"}))["id"]
        sg.client.asm.groups._(group).suppressions.post(
            request_body={"recipient_emails": ["left@example.com"]}
        )
        send(sg, ["left@example.com", "stays@example.com", "quits+unsubscribe@example.com"], group)

        def settled() -> list[dict[str, Any]]:
            found = sendgrid_events(receiver)
            assert {e["event"] for e in found} >= {"dropped", "group_unsubscribe"}
            return found

        found = eventually(settled)
        dropped = next(e for e in found if e["event"] == "dropped")
        assert (dropped["email"], dropped["reason"]) == ("left@example.com", "Unsubscribed Address")
        assert dropped["asm_group_id"] == group
        quit_event = next(e for e in found if e["event"] == "group_unsubscribe")
        assert quit_event["email"] == "quits+unsubscribe@example.com"
        assert quit_event["asm_group_id"] == group
        assert "unsubscribe" not in {e["event"] for e in found}  # not a global unsubscribe
        members = body_of(sg.client.asm.groups._(group).suppressions.get())
        assert sorted(members) == ["left@example.com", "quits+unsubscribe@example.com"]
        assert body_of(sg.client.suppression.unsubscribes.get()) == []

        # the group does not apply to mail sent without it
        send(sg, ["left@example.com"], None)
        eventually(
            lambda: any(
                e["event"] == "delivered" and e["email"] == "left@example.com"
                for e in sendgrid_events(receiver)
            )
        )

        # leaving the group: a group_resubscribe on the message it unsubscribed from
        removed = sg.client.asm.groups._(group).suppressions._("quits+unsubscribe@example.com")
        assert removed.delete().status_code == 204
        back = eventually(
            lambda: [e for e in sendgrid_events(receiver) if e["event"] == "group_resubscribe"]
        )
        assert (back[0]["email"], back[0]["asm_group_id"]) == (
            "quits+unsubscribe@example.com",
            group,
        )
        assert back[0]["sg_message_id"] == quit_event["sg_message_id"]
