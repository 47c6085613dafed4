"""What the sandbox knows, read back through Mailgun's analytics APIs: N tagged mails and M
opens give exactly N, M in the Logs API (mailgun.js ``logs.list``), in ``/v3/{domain}/stats/total``
and in the tag's stats; the domains and tags the sandbox has seen are listed; a stored message is
resent through its storage URL (mailgun.js ``resendEmail``).

References: documentation.mailgun.com API reference (Logs, Domains, Tags) and
mailgun/documentation ``api-stats.rst`` / ``api-tags.rst`` for the shapes.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import DOMAIN, stored
from tests.tools import node_modules, run_node
from tests.waiting import eventually

SCRIPT = Path(__file__).with_name("mailgun_js_analytics.js")
TAG, N, M = "promo", 3, 2


@pytest.fixture(scope="module")
def modules() -> Path:
    return node_modules("mailgun.js@14", "form-data@4")


def events_of(api: httpx.Client, message_id: str) -> list[str]:
    return [e["Type"] for e in api.get(f"/api/v1/message/{message_id}/events").json()["events"]]


def send_tagged(mg: Client, api: httpx.Client) -> list[str]:
    """N mails tagged ``promo`` and one untagged, all delivered; M of the tagged opened."""
    for i in range(N):
        data = {
            "from": f"shop@{DOMAIN}",
            "to": f"user{i}@example.com",
            "subject": f"Offer {i}",
            "text": "Hi",
            "o:tag": [TAG],
        }
        assert mg.messages.create(domain=DOMAIN, data=data).status_code == 200
    untagged = {"from": f"shop@{DOMAIN}", "to": "plain@example.com", "subject": "x", "text": "y"}
    assert mg.messages.create(domain=DOMAIN, data=untagged).status_code == 200
    ids = [m["ID"] for m in stored(api)]
    eventually(lambda: all("delivered" in events_of(api, i) for i in ids))
    tagged = [m["ID"] for m in stored(api) if m["Tags"] == [TAG]]
    for message_id in tagged[:M]:
        assert api.post(f"/api/v1/message/{message_id}/events", json={"type": "opened"}).is_success
    return tagged


def test_counts_in_logs_stats_and_tags_through_mailgun_js(
    modules: Path, running: RunningSandbox, mg: Client, api: httpx.Client
) -> None:
    tagged = send_tagged(mg, api)
    key = tagged[0]
    url = running.url.replace("127.0.0.1", "localhost")
    done = run_node(SCRIPT, modules, url, DOMAIN, TAG, key)
    assert done.returncode == 0, done.stderr
    steps: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        steps[record["step"]] = record["value"]

    opened = steps["logs_opened"]
    assert (opened["count"], opened["total"], opened["all"]) == (M, M, M)
    assert opened["events"] == ["opened"] * M and opened["domains"] == [DOMAIN] * M
    assert opened["timestamps_are_dates"] and opened["start_is_date"]
    assert sorted(steps["logs_accepted"]) == [f"user{i}@example.com" for i in range(N)]
    assert steps["stats"] == {
        "accepted": N + 1,
        "delivered": N + 1,
        "opened": M,
        "resolution": "day",
    }
    assert steps["tags"] == [{"tag": TAG, "seen": True}]
    assert steps["tag_stats"] == {"tag": TAG, "opened": M}
    assert steps["domains"] == [{"name": DOMAIN, "state": "active"}]
    assert steps["domain"]["name"] == DOMAIN and steps["domain"]["sending"] > 0

    resend = steps["resend"]
    assert resend["message"] == "Queued. Thank you." and resend["status"] == 200
    again = eventually(lambda: [m for m in stored(api) if m["Bcc"] and m["ID"] not in tagged])
    assert [a["Address"] for a in again[0]["Bcc"]] == ["again@example.com"]
    assert again[0]["Subject"] == "Offer 0" and again[0]["MessageID"] == resend["id"].strip("<>")


def test_stats_and_tags_shapes(mg: Client, api: httpx.Client) -> None:
    """The documented shapes, over raw HTTP: stats/total and tags/{tag}/stats."""
    send_tagged(mg, api)
    auth = ("api", "key-x")
    params = [("event", "accepted"), ("event", "failed"), ("event", "opened"), ("duration", "2h")]
    total = api.get(f"/v3/{DOMAIN}/stats/total", params=params, auth=auth).json()
    assert total["resolution"] == "hour" and len(total["stats"]) in (2, 3)
    entry = total["stats"][-1]
    assert set(entry) == {"time", "accepted", "failed", "opened"}
    assert entry["time"].endswith(" UTC")
    assert entry["accepted"] == {"incoming": 0, "outgoing": N + 1, "total": N + 1}
    assert entry["failed"]["permanent"]["total"] == 0 and entry["failed"]["temporary"]["total"] == 0
    assert entry["opened"] == {"total": M, "unique": M}

    one = api.get(f"/v3/{DOMAIN}/tags/{TAG}", auth=auth).json()
    assert one["tag"] == TAG and one["first-seen"].endswith(" +0000 UTC")
    assert api.get(f"/v3/{DOMAIN}/tag", params={"tag": TAG}, auth=auth).json() == one
    put = api.put(f"/v3/{DOMAIN}/tags/{TAG}", data={"description": "Spring promo"}, auth=auth)
    assert put.json() == {"message": "Tag updated"}
    tag_stats = api.get(
        f"/v3/{DOMAIN}/tags/{TAG}/stats", params={"event": "accepted"}, auth=auth
    ).json()
    assert (tag_stats["tag"], tag_stats["description"]) == (TAG, "Spring promo")
    assert sum(s["accepted"]["total"] for s in tag_stats["stats"]) == N
    assert api.delete(f"/v3/{DOMAIN}/tags/{TAG}", auth=auth).json() == {"message": "Tag deleted"}
    assert api.get(f"/v3/{DOMAIN}/tags", auth=auth).json()["items"] == []
    assert api.get(f"/v3/{DOMAIN}/tags/{TAG}", auth=auth).status_code == 404
    missing = api.get(f"/v3/{DOMAIN}/stats/total", auth=auth)
    assert (missing.status_code, missing.json()) == (
        400,
        {"message": "'event' parameter is missing"},
    )


def test_domains_are_those_the_sandbox_has_seen(sandbox_factory: Any) -> None:
    running = sandbox_factory(mailgun_domain=["configured.example.com", DOMAIN])
    with httpx.Client(base_url=running.url, auth=("api", "key-x")) as api:
        listed = api.get("/v4/domains").json()
        assert listed["total_count"] == 2
        assert [d["name"] for d in listed["items"]] == ["configured.example.com", DOMAIN]
        assert api.get("/v4/domains", params={"search": "configured"}).json()["total_count"] == 1
        assert api.get("/v4/domains/unknown.example.org").status_code == 404  # not configured
    with httpx.Client(base_url=running.url, auth=("api", "key-x")) as api:
        api.post(
            f"/v3/{DOMAIN}/messages", data={"from": f"a@{DOMAIN}", "to": "b@x.org", "text": "t"}
        )
        domain = api.get(f"/v4/domains/{DOMAIN}").json()
    assert domain["domain"]["state"] == "active" and domain["domain"]["name"] == DOMAIN
    assert {r["record_type"] for r in domain["sending_dns_records"]} == {"TXT", "CNAME"}
    created = parsedate_to_datetime(domain["domain"]["created_at"]).timestamp()
    assert abs(time.time() - created) < 3600
    with Client(auth=("api", "key-x"), api_url=running.url) as mg:  # the SDK asks /v3/domains
        assert mg.domains.get().json()["total_count"] == 2
        one = mg.domains.get(domain_name=DOMAIN).json()
        assert one["domain"]["name"] == DOMAIN
