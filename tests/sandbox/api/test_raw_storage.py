"""Raw messages are stored compressed (issue 19): every reader gives the bytes back as sent.

Each message is read through every door that serves its raw bytes (the API's raw and part
routes, the headers, the UI's source view, preview and .eml download, POP3 RETR, the MailHog
API and its "containing" search, a release to an SMTP server), first as ingest stored it
(compressed), then with its row rewritten as a plain one (as rows written before the
migration were, and as incompressible messages are): the same bytes out both ways.
"""

from __future__ import annotations

import poplib
import random
import smtplib
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from mailsandbox.pop3 import pop3_of
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import rawcodec
from mailsandbox.storage.sql import Connection
from tests.sandbox.relay.sink import Sink, smtp_sink

Factory = Callable[..., RunningSandbox]
RETURN_PATH = b"Return-Path: <app@example.com>\r\n"  # added at ingest (from the envelope)


def big_message() -> bytes:
    """A message over the reader's 1 MB chunks: 8-bit text and a 2.5 MB attachment."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "App <app@example.com>", "ann@example.com", "Big"
    msg["Message-ID"] = "<big@example.com>"
    msg.set_content("Grüße, here is the export: ünïcödé text.\n" * 50, cte="8bit")
    data = random.Random(19).randbytes(2_500_000)
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename="d.bin")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def small_message() -> bytes:
    return (
        b"From: app@example.com\r\nTo: ann@example.com\r\nSubject: Small one\r\n"
        b"Message-ID: <small@example.com>\r\n\r\n"
        b"Your code is 424242.\r\n.a line that starts with a dot\r\n"
    )


def send(running: RunningSandbox, raw: bytes) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.sendmail("app@example.com", ["ann@example.com"], raw)


def codecs(running: RunningSandbox) -> list[int]:
    rows = running.sandbox.db.read_sync(
        lambda conn: conn.execute("SELECT codec FROM message_raw ORDER BY seq").fetchall()
    )
    return [row[0] for row in rows]


def store_plain(running: RunningSandbox) -> None:
    """Rewrite every stored message as a plain row (the old schema's way)."""

    def rewrite(conn: Connection) -> None:
        rows = conn.execute("SELECT seq, raw, codec FROM message_raw").fetchall()
        for seq, stored, codec in rows:
            raw = rawcodec.unpack(bytes(stored), codec)
            conn.execute(
                "UPDATE message_raw SET raw = ?, codec = ? WHERE seq = ?",
                (raw, rawcodec.PLAIN, seq),
            )

    running.sandbox.db.write_sync(rewrite)


def read_everything(running: RunningSandbox, sink: Sink) -> dict[str, Any]:
    """What each door gives for every message, by message id."""
    api = httpx.Client(base_url=running.url, timeout=60)
    listing = api.get("/api/v1/messages").json()["messages"]
    seen: dict[str, Any] = {}
    for item in listing:
        mid = item["ID"]
        message = api.get(f"/api/v1/message/{mid}").json()
        parts = {
            part["PartID"]: api.get(f"/api/v1/message/{mid}/part/{part['PartID']}").content
            for part in message["Attachments"]
        }
        ui_parts = {
            part_id: api.get(f"/ui/message/{mid}/part/{part_id}?dl=1").content for part_id in parts
        }
        sink.messages.clear()
        released = api.post(f"/api/v1/message/{mid}/release", json={"To": ["bob@example.org"]})
        assert (released.status_code, released.text) == (200, "ok")
        relayed = message_from_bytes(sink.messages[0].data, policy=policy.default)
        seen[mid] = {
            "raw": api.get(f"/api/v1/message/{mid}/raw").content,
            "source": api.get(f"/ui/message/{mid}/raw").content,
            "eml": api.get(f"/ui/message/{mid}/raw?dl=1").content,
            "headers": api.get(f"/api/v1/message/{mid}/headers").json(),
            "text": message["Text"],
            "parts": parts,
            "ui parts": ui_parts,
            "page": "Small one" in api.get(f"/view/{mid}").text,
            "released": [
                p.get_payload(decode=True)
                for p in relayed.walk()
                if isinstance(p, EmailMessage) and p.is_attachment()
            ],
        }
    mailhog = api.get("/api/v2/messages").json()
    for item in mailhog["items"]:
        seen[item["ID"]]["mailhog"] = item["Raw"]["Data"]
    for query in ("424242", "GRÜSSE", "grüße", "absent"):
        found = api.get("/api/v2/search", params={"kind": "containing", "query": query}).json()
        seen[f"containing {query}"] = sorted(item["ID"] for item in found["items"])
    return seen


def retr_all(running: RunningSandbox) -> list[bytes]:
    server = pop3_of(running.sandbox)
    assert server is not None
    address = server.address()
    assert address is not None
    pop = poplib.POP3(*address, timeout=30)
    pop.user("ann")
    pop.pass_("pw")
    count = pop.stat()[0]
    messages = [b"\r\n".join(pop.retr(n)[1]) + b"\r\n" for n in range(1, count + 1)]
    pop.quit()
    return messages


def test_raw_bytes_are_the_same_compressed_or_plain_through_every_reader(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    with smtp_sink(tmp_path) as sink:
        running = sandbox_factory(
            pop3="127.0.0.1:0", pop3_auth=["ann:pw"], relay_host=f"{sink.host}:{sink.port}"
        )
        big, small = big_message(), small_message()
        send(running, big)
        send(running, small)
        assert codecs(running) == [rawcodec.DEFLATE, rawcodec.DEFLATE]
        stored = running.sandbox.db.read_sync(
            lambda conn: conn.execute("SELECT SUM(LENGTH(raw)) FROM message_raw").fetchone()[0]
        )
        assert stored < (len(big) + len(small)) * 0.85  # (the attachment is random: base64)

        compressed = read_everything(running, sink)
        popped = retr_all(running)
        store_plain(running)
        assert codecs(running) == [rawcodec.PLAIN, rawcodec.PLAIN]
        plain = read_everything(running, sink)
        assert plain == compressed
        assert retr_all(running) == popped

    big, small = (RETURN_PATH + raw for raw in (big, small))  # as the sandbox stores them
    by_raw = {seen["raw"]: mid for mid, seen in compressed.items() if "raw" in seen}
    assert set(by_raw) == {big, small}
    assert sorted(popped, key=len) == [small, big]
    big_id, small_id = by_raw[big], by_raw[small]
    for mid, raw in ((big_id, big), (small_id, small)):
        seen = compressed[mid]
        assert seen["source"] == seen["eml"] == raw
        assert seen["mailhog"] == raw.decode("utf-8", "replace")
    attachment = message_from_bytes(big).get_payload()[1].get_payload(decode=True)
    big_seen = compressed[big_id]
    assert list(big_seen["parts"].values()) == list(big_seen["ui parts"].values()) == [attachment]
    assert big_seen["released"] == [attachment]
    assert "ünïcödé" in big_seen["text"]
    assert big_seen["headers"]["Subject"] == ["Big"]
    assert compressed[small_id]["page"] is True
    assert compressed["containing 424242"] == [small_id]
    assert compressed["containing GRÜSSE"] == []  # ASCII case folding only, as LIKE did
    assert compressed["containing grüße"] == [big_id]
    assert compressed["containing absent"] == []
