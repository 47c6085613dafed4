"""Logins scoped to inboxes: a login scoped to inbox A sees nothing of inbox B, on every route of
the UI and the REST API, on the feeds (SSE, WebSocket, the UI's live stream) and over POP3.

``EXPECTED`` is the reviewed list of every route a ``--ui-auth`` login reaches, with what it is
to a scoped login (``mailsandbox.api.scoping``): a new route fails this test until it is listed,
and until then the sandbox refuses it to scoped logins.
"""

from __future__ import annotations

import base64
import json
import poplib
import smtplib
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers
from websockets.sync.client import connect

from mailsandbox.api.scoping import Scoping
from mailsandbox.api.surface import Auth, Surface
from mailsandbox.events import tracking
from mailsandbox.pop3 import pop3_of
from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.test_route_policy import routes_of, sample_path
from tests.waiting import eventually

Factory = Callable[..., RunningSandbox]

EXPECTED: dict[str, list[str]] = {
    "filtered": [
        "DELETE /api/v1/messages",
        "DELETE /api/v1/messages/{message_id}",
        "DELETE /api/v1/search",
        "GET /",
        "GET /api/v1/export",
        "GET /api/v1/inboxes",
        "GET /api/v1/info",
        "GET /api/v1/message/{message_id}",
        "GET /api/v1/message/{message_id}/codes",
        "GET /api/v1/message/{message_id}/esp",
        "GET /api/v1/message/{message_id}/events",
        "GET /api/v1/message/{message_id}/headers",
        "GET /api/v1/message/{message_id}/html-check",
        "GET /api/v1/message/{message_id}/inbound",
        "GET /api/v1/message/{message_id}/link-check",
        "GET /api/v1/message/{message_id}/links",
        "GET /api/v1/message/{message_id}/lint",
        "GET /api/v1/message/{message_id}/part/{part_id}",
        "GET /api/v1/message/{message_id}/part/{part_id}/thumb",
        "GET /api/v1/message/{message_id}/raw",
        "GET /api/v1/message/{message_id}/releases",
        "GET /api/v1/message/{message_id}/sa-check",
        "GET /api/v1/message/{message_id}/tracking",
        "GET /api/v1/messages",
        "GET /api/v1/search",
        "GET /api/v1/stream",
        "GET /api/v1/tags",
        "GET /api/v1/wait",
        "GET /api/v2/messages",
        "GET /api/v2/search",
        "GET /t/click/{token}",
        "GET /t/open/{token}.gif",
        "GET /t/view/{token}",
        "GET /ui/events",
        "GET /ui/inboxes",
        "GET /ui/list",
        "GET /ui/message/{message_id}/checks/html",
        "GET /ui/message/{message_id}/checks/links",
        "GET /ui/message/{message_id}/checks/lint",
        "GET /ui/message/{message_id}/checks/source",
        "GET /ui/message/{message_id}/checks/spam",
        "GET /ui/message/{message_id}/codes",
        "GET /ui/message/{message_id}/download/{kind}",
        "GET /ui/message/{message_id}/events",
        "GET /ui/message/{message_id}/gone",
        "GET /ui/message/{message_id}/inbound",
        "GET /ui/message/{message_id}/links",
        "GET /ui/message/{message_id}/part/{part_id}",
        "GET /ui/message/{message_id}/preview",
        "GET /ui/message/{message_id}/raw",
        "GET /ui/message/{message_id}/snapshot",
        "GET /view/latest",
        "GET /view/{message_id}",
        "GET /view/{message_id}.html",
        "GET /view/{message_id}.txt",
        "POST /api/v1/message/{message_id}/events",
        "POST /api/v1/message/{message_id}/release",
        "POST /ui/message/{message_id}/delete",
        "POST /ui/message/{message_id}/release",
        "POST /ui/message/{message_id}/tags",
        "POST /ui/message/{message_id}/unread",
        "POST /ui/messages/bulk",
        "POST /ui/messages/delete-all",
        "POST /ui/messages/delete-search",
        "POST /ui/messages/read-all",
        "PUT /api/v1/messages",
        "PUT /api/v1/tags",
        "WEBSOCKET /api/events",
    ],
    "no-mail": [
        "DELETE /api/v1/messages/",
        "GET /api/docs",
        "GET /api/docs/assets/{name}",
        "GET /api/v1/chaos",
        "GET /api/v1/openapi.json",
        "GET /api/v1/webui",
        "GET /ui/static/{path:path}",
        "HEAD /api/v1/openapi.json",
        "PUT /api/v1/chaos",
    ],
    "all-inboxes": [
        "DELETE /api/v1/inbox-rules/{rule_id}",
        "DELETE /api/v1/rules/{rule_id}",
        "DELETE /api/v1/tags/{tag:path}",
        "GET /api/v1/inbox-rules",
        "GET /api/v1/rules",
        "GET /api/v1/webhooks/deliveries",
        "GET /metrics",
        "GET /ui/compose",
        "GET /ui/rules",
        "GET /ui/suppressions",
        "PATCH /api/v1/rules/{rule_id}",
        "POST /api/v1/import",
        "POST /api/v1/inbound",
        "POST /api/v1/inbox-rules",
        "POST /api/v1/rules",
        "POST /api/v1/send",
        "POST /api/v1/webhooks/deliveries/{outbox_id}/replay",
        "POST /ui/compose",
        "POST /ui/inboxes/rules",
        "POST /ui/inboxes/rules/{rule_id}/delete",
        "POST /ui/rules",
        "POST /ui/rules/{rule_id}/delete",
        "POST /ui/rules/{rule_id}/enabled",
        "POST /ui/rules/{rule_id}/move",
        "POST /ui/suppressions/clear",
        "POST /ui/suppressions/remove",
        "POST /ui/tags/delete",
        "POST /ui/tags/rename",
        "POST /ui/webhooks/{outbox_id}/replay",
        "PUT /api/v1/tags/{tag:path}",
    ],
}
STREAMS = {"GET /api/v1/stream", "GET /ui/events", "WEBSOCKET /api/events"}  # tested below
LOGINS = ["admin:a", "ann:pa", "bob:pb"]
SCOPES = ["ann=tenant-a", "bob=tenant-b,shared"]
# Ann's view must never show any of these: the other inboxes' names and their mail's subjects.
OTHER_INBOXES = {"tenant-b": "SECRET-B", "zeta-inbox": "SECRET-Z", "shared": "SECRET-S"}


def ui_routes(running: RunningSandbox) -> list[tuple[str, str]]:
    """Every route a --ui-auth login reaches: ``(method, template)``."""
    surface: Surface = running.app.state.surface
    found = []
    for method, template in routes_of(running.app):
        resolved = surface.resolve(
            "GET" if method == "WEBSOCKET" else method, sample_path(template), Headers()
        )
        if resolved is not None and resolved[1].auth is Auth.UI:
            found.append((method, template))
    return found


def kind_of(running: RunningSandbox, method: str, template: str) -> str:
    scoping: Scoping = running.app.state.scoping
    found = scoping.kind_of("GET" if method == "WEBSOCKET" else method, sample_path(template))
    return found.value if found is not None else "(none: refused)"


def send(running: RunningSandbox, inbox: str, subject: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "app@example.com", "ann@example.com", subject
    msg["X-Sandbox-Inbox"] = inbox
    msg.set_content(f"{subject}: see https://example.com/{subject} code 482913\n")
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.send_message(msg)


def start(sandbox_factory: Factory, **extra: Any) -> RunningSandbox:
    running = sandbox_factory(**{"ui_auth": LOGINS, "inbox_scope": SCOPES, **extra})
    send(running, "tenant-a", "MINE-A")
    for inbox, subject in OTHER_INBOXES.items():
        send(running, inbox, subject)
    return running


def client(running: RunningSandbox, login: str) -> httpx.Client:
    user, password = login.split(":")
    own_page = {"Origin": running.url, "HX-Request": "true"}  # the UI's own page, for its POSTs
    return httpx.Client(base_url=running.url, auth=(user, password), headers=own_page, timeout=30)


def ids_by_inbox(admin: httpx.Client) -> dict[str, str]:
    listing = admin.get("/api/v1/messages").json()["messages"]
    return {admin.get(f"/api/v1/message/{m['ID']}/headers").json()["X-Sandbox-Inbox"][0]: m["ID"]
            for m in listing}  # fmt: skip


def state_of(admin: httpx.Client, message_id: str) -> dict[str, Any]:
    """All there is to see and change about a message, as an unscoped login sees it."""
    found = admin.get("/api/v1/search", params={"query": f"message-id:{message_id}"})
    summary = admin.get("/api/v1/messages").json()["messages"]
    mine = next((m for m in summary if m["ID"] == message_id), None)
    events = admin.get(f"/api/v1/message/{message_id}/events").json()["events"]
    releases = admin.get(f"/api/v1/message/{message_id}/releases").json()
    return {"summary": mine, "events": events, "releases": releases, "search": found.status_code}


def delivered(admin: httpx.Client, message_id: str) -> bool:
    events = admin.get(f"/api/v1/message/{message_id}/events").json()["events"]
    return any(e["Type"] == "delivered" for e in events)


def test_every_ui_auth_route_is_declared(sandbox_factory: Factory) -> None:
    running = sandbox_factory(ui_auth=LOGINS, inbox_scope=SCOPES)
    actual = {f"{m} {t}": kind_of(running, m, t) for m, t in ui_routes(running)}
    expected = {spec: kind for kind, specs in EXPECTED.items() for spec in specs}
    assert sorted(set(actual) - set(expected)) == [], "routes missing from EXPECTED: declare them"
    assert sorted(set(expected) - set(actual)) == [], "EXPECTED lists routes the app lacks"
    assert {s: k for s, k in actual.items() if k != expected[s]} == {}


def request_for(method: str, template: str, other: str) -> dict[str, Any]:
    """A request of this route about the message ``other`` (of an inbox Ann may not see)."""
    token = tracking.make_token(other, "ann@example.com")
    path = sample_path(template.replace("{message_id}", other).replace("{token}", token))
    params = {"query": "SECRET", "q": "SECRET", "kind": "containing", "timeout": "0",
              "url": "https://example.com/x", "limit": "0"}  # fmt: skip
    request: dict[str, Any] = {"method": "HEAD" if method == "HEAD" else method, "url": path}
    if method == "GET" or method == "HEAD":
        request["params"] = params
    elif template.startswith("/ui/"):
        request["data"] = {"q": "SECRET", "to": "eve@example.com", "next": "/"}
    else:
        request["json"] = {"IDs": [other], "Read": True, "Tags": ["stolen"], "Search": "",
                           "To": ["eve@example.com"], "type": "opened", "Name": "x"}  # fmt: skip
    return request


def test_a_scoped_login_sees_and_changes_nothing_of_other_inboxes_on_any_route(
    sandbox_factory: Factory,
) -> None:
    running = start(sandbox_factory)
    admin, ann = client(running, "admin:a"), client(running, "ann:pa")
    ids = ids_by_inbox(admin)
    others = [ids[name] for name in OTHER_INBOXES]
    # Each message's simulated lifecycle ends with "delivered" (applied by a background loop):
    # wait for it, so that only Ann could change what is compared below.
    eventually(lambda: all(delivered(admin, other) for other in others))
    before = {other: state_of(admin, other) for other in others}
    secrets = [*others, *OTHER_INBOXES, *OTHER_INBOXES.values()]
    checked = 0
    for method, template in ui_routes(running):
        spec, kind = f"{method} {template}", kind_of(running, method, template)
        if spec in STREAMS:
            continue
        for other in others:
            answer = ann.request(**request_for(method, template, other))
            if kind not in ("filtered", "no-mail"):
                assert answer.status_code == 403, spec
                continue
            leaked = [s for s in secrets if s in answer.text or s in str(answer.headers)]
            assert leaked == [], f"{spec} shows Ann {leaked}"
            checked += 1
    assert checked > 100
    assert {other: state_of(admin, other) for other in others} == before, "Ann changed them"
    # What Ann may see, she does (this is not a sandbox that shows nothing at all)
    assert ann.get("/api/v1/search", params={"query": "MINE"}).json()["messages_count"] in (0, 1)


def test_rest_lists_searches_and_counts(sandbox_factory: Factory) -> None:
    running = start(sandbox_factory)
    ann, bob, admin = (client(running, login) for login in LOGINS[1:] + LOGINS[:1])
    subjects = lambda c: sorted(m["Subject"] for m in c.get("/api/v1/messages").json()["messages"])  # noqa: E731
    assert subjects(ann) == ["MINE-A"]
    assert subjects(bob) == ["SECRET-B", "SECRET-S"]
    assert len(subjects(admin)) == 4
    listing = ann.get("/api/v1/messages").json()
    assert (listing["total"], listing["unread"], listing["messages_count"]) == (1, 1, 1)
    assert ann.get("/api/v1/search", params={"query": "SECRET"}).json()["messages_count"] == 0
    assert ann.get("/api/v1/search", params={"query": "inbox:tenant-b"}).json()["messages"] == []
    assert [i["Name"] for i in bob.get("/api/v1/inboxes").json()["inboxes"]] == [
        "shared", "tenant-b"]  # fmt: skip
    info = ann.get("/api/v1/info").json()
    assert (info["Messages"], info["Unread"], info["DatabaseSize"]) == (1, 1, 0)
    assert ann.get("/api/v1/message/latest").json()["Subject"] == "MINE-A"
    assert ann.get("/api/v1/messages", params={"inbox": "tenant-b"}).json()["messages"] == []
    exported = ann.get("/api/v1/export").content
    assert b"MINE-A" in exported and b"SECRET" not in exported
    # Deleting everything deletes Ann's mail only
    assert ann.delete("/api/v1/messages").status_code == 200
    assert sorted(subjects(admin)) == ["SECRET-B", "SECRET-S", "SECRET-Z"]
    assert ann.get("/metrics").status_code == 403 and admin.get("/metrics").status_code == 200
    assert ann.get("/api/v1/webui").status_code == 200  # holds no mail


def test_ui_pages(sandbox_factory: Factory) -> None:
    running = start(sandbox_factory)
    ann, admin = client(running, "ann:pa"), client(running, "admin:a")
    ids = ids_by_inbox(admin)
    inbox = ann.get("/").text
    assert "MINE-A" in inbox and "SECRET" not in inbox and "tenant-b" not in inbox
    assert 'href="/ui/rules"' not in inbox and 'href="/ui/inboxes"' in inbox  # the nav
    assert 'href="/ui/rules"' in admin.get("/").text
    # no buttons for what a scoped login is refused: compose, reply
    assert 'id="compose"' not in inbox and 'id="compose"' in admin.get("/").text
    ann.put("/api/v1/tags", json={"IDs": [ids["tenant-a"]], "Tags": ["mine"]})
    sidebar = ann.get("/").text  # the tag filters, without "rename or delete everywhere"
    assert '<span class="tag-name">mine</span>' in sidebar and "tag-edit" not in sidebar
    assert 'class="tag-edit"' in admin.get("/").text
    assert ann.get(f"/view/{ids['tenant-b']}").status_code == 404
    page = ann.get(f"/view/{ids['tenant-a']}").text
    assert "MINE-A" in page and ids["tenant-b"] not in page  # no "newer/older" into B
    assert 'id="reply"' not in page and 'id="reply"' in admin.get(f"/view/{ids['tenant-a']}").text
    inboxes = ann.get("/ui/inboxes").text
    assert "tenant-a" in inboxes and "tenant-b" not in inboxes and "Inbox rules" not in inboxes
    assert ann.get("/ui/rules").status_code == 403


def ann_auth() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(b"ann:pa").decode()}


def sse_frames(running: RunningSandbox, path: str, until: Callable[[str], bool]) -> Iterator[str]:
    """The frames of an SSE stream as Ann, until ``until`` accepts one (15 s at most)."""
    with httpx.stream("GET", running.url + path, headers=ann_auth(), timeout=15) as stream:
        buffer = ""
        for chunk in stream.iter_text():
            buffer += chunk
            while "\n\n" in buffer:
                frame, buffer = buffer.split("\n\n", 1)
                yield frame
                if until(frame):
                    return


def in_background(work: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_the_websocket_and_the_sse_stream_carry_only_the_logins_inboxes(
    sandbox_factory: Factory,
) -> None:
    running = sandbox_factory(ui_auth=LOGINS, inbox_scope=SCOPES)
    url = running.url.replace("http", "ws") + "/api/events"
    with connect(url, additional_headers=ann_auth(), open_timeout=10) as socket:
        stats = json.loads(socket.recv(timeout=10))
        assert stats == {"Type": "stats", "Data": {"Total": 0, "Unread": 0, "Version": "0.1.0"}}
        sse: list[str] = []
        reader = in_background(
            lambda: sse.extend(sse_frames(running, "/api/v1/stream", lambda f: "MINE-A" in f))
        )
        eventually(lambda: running.sandbox.bus.subscriber_count >= 2)  # both feeds listen
        send(running, "tenant-b", "SECRET-B")
        send(running, "tenant-a", "MINE-A")
        frames = [socket.recv(timeout=15)]
        while "MINE-A" not in frames[-1]:
            frames.append(socket.recv(timeout=15))
        reader.join(20)
    assert not any("SECRET" in f for f in frames)
    assert any("MINE-A" in f for f in sse) and not any("SECRET" in f for f in sse)


def test_the_ui_live_stream_carries_only_the_logins_inboxes(sandbox_factory: Factory) -> None:
    running = start(sandbox_factory)
    admin = client(running, "admin:a")
    ids = ids_by_inbox(admin)
    # The set-up's own mail gets its simulated "delivered" event in the background, which the
    # feed also announces: let it pass, so that the frames below answer the trigger's events.
    eventually(lambda: all(delivered(admin, ids[inbox]) for inbox in ("tenant-a", "tenant-b")))
    posted = threading.Event()

    def trigger() -> None:  # a delivery event on B's message, then on A's
        eventually(lambda: running.sandbox.bus.subscriber_count >= 1)
        posted.set()
        admin.post(f"/api/v1/message/{ids['tenant-b']}/events", json={"type": "opened"})
        admin.post(f"/api/v1/message/{ids['tenant-a']}/events", json={"type": "opened"})

    a_delivered = f"event: delivery\ndata: {ids['tenant-a']}"
    poke = in_background(trigger)
    frames = list(sse_frames(running, "/ui/events", lambda f: posted.is_set() and f == a_delivered))
    poke.join(20)
    assert posted.is_set() and frames[-1] == a_delivered
    assert not any(ids["tenant-b"] in f for f in frames)


def test_pop3_logins_with_different_scopes(sandbox_factory: Factory) -> None:
    running = start(sandbox_factory, pop3="127.0.0.1:0", pop3_auth=["fetcher:pf"],
                    inbox_scope=[*SCOPES, "fetcher=zeta-inbox"])  # fmt: skip
    server = pop3_of(running.sandbox)
    assert server is not None
    address = server.address()
    assert address is not None

    def subjects(user: str, password: str) -> list[str]:
        pop = poplib.POP3(*address, timeout=30)
        pop.user(user)
        pop.pass_(password)
        found = []
        for number in range(1, pop.stat()[0] + 1):
            head = b"\n".join(pop.top(number, 0)[1])
            found.append(next(line.split(b": ", 1)[1].decode() for line in head.split(b"\n")
                              if line.startswith(b"Subject: ")))  # fmt: skip
        pop.quit()
        return sorted(found)

    assert subjects("ann", "pa") == ["MINE-A"]
    assert subjects("bob", "pb") == ["SECRET-B", "SECRET-S"]
    assert subjects("fetcher", "pf") == ["SECRET-Z"]
    assert len(subjects("admin", "a")) == 4


def test_scopes_that_cannot_work_are_refused(sandbox_factory: Factory) -> None:
    with pytest.raises(ValueError, match="no such login"):
        sandbox_factory(ui_auth=["ann:x"], inbox_scope=["bob=a"])
    with pytest.raises(ValueError, match="expected USER=INBOX,INBOX"):
        sandbox_factory(ui_auth=["ann:x"], inbox_scope=["ann"])
