"""Tables of the event engine: live rules, scheduled delivery steps, the webhook outbox and
its attempts.

``event_rules`` keeps the rules added live. ``event_schedule`` holds what the engine decided
will happen to each recipient (a ``deferred`` in 1 s, then ``delivered``...), so a restart
resumes the plan. ``webhook_outbox`` holds one row per (event, endpoint), written in the same
transaction as the event; ``webhook_attempts`` logs every POST made for an outbox row. Created
by the ``events.*`` migrations (``events/migrations.py``, plain SQL, checked against these
models by ``tests/sandbox/storage/test_schema.py``); not imported at run time.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class ScheduledStepRow(SQLModel, table=True):
    """One future event of a recipient's lifecycle (applied, then deleted, when due)."""

    __tablename__ = "event_schedule"

    seq: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True)
    recipient: str = ""
    type: str = ""
    due: float = Field(index=True)
    reason: str = ""
    code: int = 0
    details_json: str = "{}"


class OutboxRow(SQLModel, table=True):
    """A webhook payload waiting for (or done with) delivery to one endpoint."""

    __tablename__ = "webhook_outbox"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    created: float = Field(index=True)
    provider: str = Field(index=True)  # sendgrid | mailgun | generic
    endpoint_id: str = ""
    url: str = ""
    signed: int = 0
    message_id: str = Field(default="", index=True)
    event_id: str = ""
    payload_json: str = "{}"
    status: str = Field(default="pending", index=True)  # pending | delivered | failed | stopped
    attempts: int = 0
    next_attempt: float = Field(default=0.0, index=True)
    updated: float = 0.0
    last_status: int = 0
    last_error: str = ""


class AttemptRow(SQLModel, table=True):
    """One HTTP POST made for an outbox row (a batched POST logs one row per item)."""

    __tablename__ = "webhook_attempts"

    seq: int | None = Field(default=None, primary_key=True)
    outbox_id: str = Field(index=True)
    batch_id: str = ""
    attempt: int = 0
    created: float = Field(index=True)
    status_code: int = 0
    ok: int = 0
    latency_ms: float = 0.0
    response_excerpt: str = ""
    error: str = ""


class RuleRow(SQLModel, table=True):
    """A rule added live (API or UI); rules from ``--rules-file`` are re-read at each start."""

    __tablename__ = "event_rules"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    rule_json: str = "{}"
