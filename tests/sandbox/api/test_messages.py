"""The mailbox endpoints: list, read status, delete; exact Mailpit shapes."""

from __future__ import annotations

import smtplib

import httpx

from tests.sandbox.api.helpers import LIST_KEYS, SUMMARY_KEYS, send


def test_list_shape_paging_and_order(api: httpx.Client) -> None:
    ids = [send(api, f"m{i}", Tags=["b-tag", "A-tag"] if i == 0 else []) for i in range(3)]
    response = api.get("/api/v1/messages", params={"start": 0, "limit": 2})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text.endswith("}\n")
    body = response.json()
    assert list(body) == LIST_KEYS
    assert [m["ID"] for m in body["messages"]] == ids[::-1][:2]
    assert (body["total"], body["unread"], body["count"]) == (3, 3, 2)
    assert (body["messages_count"], body["messages_unread"], body["start"]) == (3, 3, 0)
    assert body["tags"] == ["A-tag", "b-tag"]
    summary = body["messages"][0]
    assert list(summary) == SUMMARY_KEYS
    assert summary["Cc"] is None and summary["ReplyTo"] == []
    assert summary["From"] == {"Name": "Sender", "Address": "sender@example.com"}
    second = api.get("/api/v1/messages", params={"start": 2, "limit": 2}).json()
    assert [m["ID"] for m in second["messages"]] == [ids[0]]
    everything = api.get("/api/v1/messages", params={"start": 2, "limit": 0}).json()
    assert len(everything["messages"]) == 3 and everything["start"] == 0
    odd = api.get("/api/v1/messages", params={"start": "-4", "limit": "abc"}).json()
    assert odd["start"] == 0 and odd["count"] == 3


def test_list_by_inbox(api: httpx.Client) -> None:
    send(api, "team mail", Headers={"X-Sandbox-Inbox": "team"})
    send(api, "default mail")
    body = api.get("/api/v1/messages", params={"inbox": "team"}).json()
    assert [m["Subject"] for m in body["messages"]] == ["team mail"]
    assert (body["total"], body["messages_count"]) == (2, 1)


def test_set_read_status_by_ids_search_and_all(api: httpx.Client) -> None:
    first, second = send(api, "one"), send(api, "two")
    assert api.put("/api/v1/messages", json={"IDs": [first], "Read": True}).text == "ok"
    body = api.get("/api/v1/messages").json()
    assert body["unread"] == 1
    assert {m["ID"]: m["Read"] for m in body["messages"]} == {first: True, second: False}
    api.put("/api/v1/messages", json={"search": "subject:two", "read": True})
    assert api.get("/api/v1/messages").json()["unread"] == 0
    response = api.put("/api/v1/messages", json={})  # {} = mark ALL unread
    assert response.status_code == 200 and response.text == "ok"
    assert response.headers["content-type"].startswith("text/plain")
    assert api.get("/api/v1/messages").json()["unread"] == 2
    api.put("/api/v1/messages", json={"IDs": [], "Read": True})
    assert api.get("/api/v1/messages").json()["unread"] == 0
    api.put("/api/v1/messages", json={"IDs": ["nope"], "Read": False})
    assert api.get("/api/v1/messages").json()["unread"] == 0


def test_set_read_status_rejects_bad_bodies(api: httpx.Client) -> None:
    send(api)
    both = api.put("/api/v1/messages", json={"IDs": ["x"], "Search": "a"})
    assert both.status_code == 400
    assert "either IDs or a search" in both.json()["Error"]
    for content in (b"", b"not json", b"[1]", b'{"IDs": "x"}', b'{"Read": "yes"}'):
        assert api.put("/api/v1/messages", content=content).status_code == 400, content


def test_delete_by_ids_and_all(api: httpx.Client) -> None:
    first, second, third = send(api, "1"), send(api, "2"), send(api, "3")
    response = api.request("DELETE", "/api/v1/messages", json={"IDs": [first, "unknown"]})
    assert response.text == "ok"
    assert [m["ID"] for m in api.get("/api/v1/messages").json()["messages"]] == [third, second]
    assert api.get(f"/api/v1/message/{first}").status_code == 404
    # No body and empty IDs mean "delete everything"; bad JSON deletes nothing (unlike
    # Mailpit: see test_bulk_safety.py).
    assert api.delete("/api/v1/messages").text == "ok"
    assert api.get("/api/v1/messages").json()["total"] == 0
    send(api)
    assert api.request("DELETE", "/api/v1/messages", content=b"{bad").status_code == 400
    assert api.get("/api/v1/messages").json()["total"] == 1
    send(api, Tags=["gone"])
    api.request("DELETE", "/api/v1/messages", json={"IDs": []})
    assert api.get("/api/v1/messages").json() == {
        **dict.fromkeys(LIST_KEYS[:6], 0),
        "tags": [],
        "messages": [],
    }


def test_a_list_right_after_the_smtp_250_counts_the_message(
    api: httpx.Client, smtp: smtplib.SMTP
) -> None:
    # SMTP answers 250 at the commit, before the message is searchable and announced: the
    # cached totals must not lag behind the list they head.
    for n in range(1, 31):
        api.get("/api/v1/messages", params={"limit": 1})  # totals cached: nothing changes now
        smtp.sendmail("app@example.com", ["bob@example.com"], f"Subject: n{n}\r\n\r\nhi\r\n")
        body = api.get("/api/v1/messages", params={"limit": 1}).json()
        assert (body["total"], body["messages_count"], body["unread"]) == (n, n, n)
