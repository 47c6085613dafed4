"""MailHog's v2 read API, for the npm ``mailhog`` client."""

from __future__ import annotations

import http.client

import httpx

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import smtp_send

RAW = (
    b"From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: mh test\r\n"
    b"X-lower-case: kept\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="BB"\r\n\r\n'
    b"--BB\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"caf=C3=A9\r\n--BB\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--BB--\r\n"
)


def test_v2_messages_shape(running: RunningSandbox, api: httpx.Client) -> None:
    smtp_send(running, RAW, to=["bob@example.com", "hidden@example.com"])
    response = api.get("/api/v2/messages")
    assert response.headers["content-type"].startswith("text/json")
    body = response.json()
    assert (body["total"], body["count"], body["start"]) == (1, 1, 0)
    item = body["items"][0]
    assert list(item) == ["ID", "From", "To", "Content", "Created", "MIME", "Raw"]
    assert item["From"] == {
        "Relays": None,
        "Mailbox": "sender",
        "Domain": "example.com",
        "Params": "",
    }
    assert [t["Mailbox"] for t in item["To"]] == ["bob", "hidden"]
    headers = item["Content"]["Headers"]
    assert headers["Subject"] == ["mh test"] and headers["X-lower-case"] == ["kept"]
    assert item["Content"]["MIME"] is None
    parts = item["MIME"]["Parts"]
    assert parts[0]["Headers"]["Content-Type"] == ["text/plain"]
    assert parts[0]["Body"] == "caf=C3=A9"  # still transfer-encoded
    assert item["Raw"]["From"] == "sender@example.com" and "mh test" in item["Raw"]["Data"]


def test_v2_search_kinds_and_errors(running: RunningSandbox, api: httpx.Client) -> None:
    smtp_send(running, RAW)
    for kind, query, total in [
        ("from", "ANN@example", 1),
        ("to", "bob@", 1),
        ("containing", "caf=C3", 1),
        ("containing", "absent", 0),
    ]:
        body = api.get("/api/v2/search", params={"kind": kind, "query": query}).json()
        assert body["total"] == total, (kind, query)
    bad = api.get("/api/v2/search", params={"kind": "subject", "query": "x"})
    assert bad.status_code == 400 and bad.content == b""
    assert api.get("/api/v2/search", params={"kind": "to", "query": ""}).status_code == 400
    assert api.get("/api/v2/messages", params={"limit": 1000}).status_code == 200
    assert api.get("/api/v2/messages", params={"start": "x", "limit": "-1"}).json()["count"] == 1


def test_mailhog_deletes(running: RunningSandbox, api: httpx.Client) -> None:
    smtp_send(running, RAW)
    smtp_send(running, RAW)
    first = api.get("/api/v2/messages").json()["items"][0]["ID"]
    one = api.delete(f"/api/v1/messages/{first}")
    assert (one.status_code, one.content) == (200, b"")
    assert one.headers["content-type"].startswith("text/json")
    assert api.get("/api/v2/messages").json()["total"] == 1
    # Node's http module sends no Accept header: MailHog's empty body, not Mailpit's "ok".
    conn = http.client.HTTPConnection(running.http_host, running.http_port, timeout=10)
    conn.putrequest("DELETE", "/api/v1/messages", skip_accept_encoding=True)
    conn.endheaders()
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"")
    conn.close()
    assert api.get("/api/v2/messages").json()["total"] == 0
    smtp_send(running, RAW)
    assert api.delete("/api/v1/messages").text == "ok"  # clients that send Accept get "ok"
