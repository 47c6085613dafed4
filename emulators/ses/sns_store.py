"""SNS topics and their subscriptions (the sandbox's stand-in for Amazon SNS).

A subscription is ``pending`` until confirmed with its token (``ConfirmSubscription`` or the
SubscribeURL); only confirmed http/https subscriptions get notifications. ``base_url`` is the
sandbox URL the subscriber's app used to subscribe: SubscribeURL, UnsubscribeURL and
SigningCertURL are built on it, so they work from wherever the app runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from mailsandbox.storage.sql import Connection, Row


@dataclass
class Topic:
    arn: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    confirmed: bool = False
    token: str = ""
    base_url: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false").lower() == "true"


def _topic(row: Row) -> Topic:
    return Topic(row["arn"], row["name"], json.loads(row["attributes_json"] or "{}"))


def _subscription(row: Row) -> Subscription:
    return Subscription(
        row["arn"],
        row["topic_arn"],
        row["protocol"],
        row["endpoint"],
        bool(row["confirmed"]),
        row["token"],
        row["base_url"],
        json.loads(row["attributes_json"] or "{}"),
    )


def get_topic(conn: Connection, arn: str) -> Topic | None:
    row = conn.execute("SELECT * FROM sns_topics WHERE arn = ?", (arn,)).fetchone()
    return _topic(row) if row else None


def save_topic(conn: Connection, topic: Topic) -> None:
    conn.execute(
        "INSERT INTO sns_topics (arn, name, created, attributes_json) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (arn) DO UPDATE SET attributes_json = excluded.attributes_json",
        (topic.arn, topic.name, round(time.time(), 3), json.dumps(topic.attributes)),
    )


def delete_topic(conn: Connection, arn: str) -> None:
    conn.execute("DELETE FROM sns_subscriptions WHERE topic_arn = ?", (arn,))
    conn.execute("DELETE FROM sns_topics WHERE arn = ?", (arn,))


def topics(conn: Connection) -> list[Topic]:
    return [_topic(r) for r in conn.execute("SELECT * FROM sns_topics ORDER BY created, arn")]


def get_subscription(conn: Connection, arn: str) -> Subscription | None:
    row = conn.execute("SELECT * FROM sns_subscriptions WHERE arn = ?", (arn,)).fetchone()
    return _subscription(row) if row else None


def find_subscription(
    conn: Connection, topic_arn: str, protocol: str, endpoint: str
) -> Subscription | None:
    row = conn.execute(
        "SELECT * FROM sns_subscriptions WHERE topic_arn = ? AND protocol = ? AND endpoint = ?",
        (topic_arn, protocol, endpoint),
    ).fetchone()
    return _subscription(row) if row else None


def by_token(conn: Connection, topic_arn: str, token: str) -> Subscription | None:
    row = conn.execute(
        "SELECT * FROM sns_subscriptions WHERE topic_arn = ? AND token = ?", (topic_arn, token)
    ).fetchone()
    return _subscription(row) if row else None


def save_subscription(conn: Connection, sub: Subscription) -> None:
    values: tuple[Any, ...] = (
        sub.topic_arn,
        sub.protocol,
        sub.endpoint,
        int(sub.confirmed),
        sub.token,
        sub.base_url,
        json.dumps(sub.attributes),
        sub.arn,
    )
    updated = conn.execute(
        "UPDATE sns_subscriptions SET topic_arn = ?, protocol = ?, endpoint = ?, confirmed = ?,"
        " token = ?, base_url = ?, attributes_json = ? WHERE arn = ?",
        values,
    ).rowcount
    if not updated:
        conn.execute(
            "INSERT INTO sns_subscriptions (topic_arn, protocol, endpoint, confirmed, token,"
            " base_url, attributes_json, arn, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, round(time.time(), 3)),
        )


def delete_subscription(conn: Connection, arn: str) -> bool:
    return conn.execute("DELETE FROM sns_subscriptions WHERE arn = ?", (arn,)).rowcount > 0


def subscriptions(conn: Connection, topic_arn: str | None = None) -> list[Subscription]:
    if topic_arn is None:
        rows = conn.execute("SELECT * FROM sns_subscriptions ORDER BY created, arn")
    else:
        rows = conn.execute(
            "SELECT * FROM sns_subscriptions WHERE topic_arn = ? ORDER BY created, arn",
            (topic_arn,),
        )
    return [_subscription(r) for r in rows]


def deliverable(conn: Connection, topic_arns: list[str]) -> list[Subscription]:
    """Confirmed http/https subscriptions of any of ``topic_arns``."""
    if not topic_arns:
        return []
    marks = ",".join("?" * len(topic_arns))
    rows = conn.execute(
        f"SELECT * FROM sns_subscriptions WHERE confirmed = 1 AND topic_arn IN ({marks})"
        " AND protocol IN ('http', 'https') ORDER BY created, arn",
        topic_arns,
    ).fetchall()
    return [_subscription(r) for r in rows]
