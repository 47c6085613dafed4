"""Suppression endpoints on the shared store: list / get / add / delete, and global unsubscribes."""

from __future__ import annotations

import httpx
import pytest
from sendgrid import SendGridAPIClient

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import suppressions


def test_bounces_crud_with_sendgrid_shapes(sg: SendGridAPIClient, running: RunningSandbox) -> None:
    bounces = sg.client.suppression.bounces
    added = bounces.post(
        request_body=[
            {"email": "Gone@Example.com", "reason": "550 5.1.1 no such user", "status": "5.1.1"},
            {"email": "full@example.com", "reason": "552 mailbox full", "status": "5.2.2"},
        ]
    )
    assert added.status_code == 201
    listing = bounces.get().to_dict
    assert {e["email"] for e in listing} == {"gone@example.com", "full@example.com"}
    entry = next(e for e in listing if e["email"] == "gone@example.com")
    assert set(entry) == {"created", "email", "reason", "status"}
    assert (entry["reason"], entry["status"]) == ("550 5.1.1 no such user", "5.1.1")
    assert isinstance(entry["created"], int)
    # the shared store the event engine reads
    kinds = running.sandbox.db.read_sync(
        lambda conn: suppressions.suppressed_kinds(conn, "gone@example.com")
    )
    assert kinds == ["bounce"]
    assert bounces._("gone@example.com").get().to_dict[0]["email"] == "gone@example.com"
    assert bounces.get(query_params={"email": "full"}).to_dict[0]["email"] == "full@example.com"
    assert len(bounces.get(query_params={"limit": 1}).to_dict) == 1
    assert bounces._("gone@example.com").delete().status_code == 204
    assert bounces._("gone@example.com").get().to_dict == []
    assert bounces.delete(request_body={"delete_all": True}).status_code == 204
    assert bounces.get().to_dict == []


@pytest.mark.parametrize(
    ("list_name", "fields"),
    [
        ("blocks", {"created", "email", "reason", "status"}),
        ("spam_reports", {"created", "email", "ip"}),
        ("invalid_emails", {"created", "email", "reason"}),
        ("unsubscribes", {"created", "email"}),
    ],
)
def test_each_list_has_its_shape(
    shared_http: httpx.Client, list_name: str, fields: set[str]
) -> None:
    http = shared_http  # one sandbox for the four lists: each test uses its own list
    path = f"/v3/suppression/{list_name}"
    assert http.post(path, json={"emails": ["a@example.com", "b@example.com"]}).status_code == 201
    listing = http.get(path).json()
    assert [set(e) for e in listing] == [fields, fields]
    delete = http.request("DELETE", path, json={"emails": ["a@example.com"]})
    assert delete.status_code == 204
    assert [e["email"] for e in http.get(path).json()] == ["b@example.com"]


def test_global_unsubscribes(sg: SendGridAPIClient, http: httpx.Client) -> None:
    glob = sg.client.asm.suppressions._("global")
    added = glob.post(request_body={"recipient_emails": ["u1@example.com", "u2@example.com"]})
    assert added.status_code == 201
    assert added.to_dict == {"recipient_emails": ["u1@example.com", "u2@example.com"]}
    assert glob._("u1@example.com").get().to_dict == {"recipient_email": "u1@example.com"}
    assert glob._("nobody@example.com").get().to_dict == {}
    assert {e["email"] for e in http.get("/v3/suppression/unsubscribes").json()} == {
        "u1@example.com",
        "u2@example.com",
    }
    assert glob._("u1@example.com").delete().status_code == 204
    assert glob._("u1@example.com").get().to_dict == {}


def test_suppression_errors(http: httpx.Client) -> None:
    assert http.get("/v3/suppression/nonsense").status_code == 404
    bad = http.post("/v3/suppression/bounces", json=[{"email": "not-an-address"}])
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["message"] == "Does not contain a valid address."
    neither = http.request("DELETE", "/v3/suppression/bounces", json={})
    assert neither.status_code == 400
    assert http.get("/v3/suppression/bounces", params={"limit": "x"}).status_code == 400
