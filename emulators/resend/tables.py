"""Resend's tables as SQLModel classes: the description of the schema that ``migrations.py``
creates (checked by ``tests/sandbox/storage/test_schema.py``). Not imported at run
time: SQLAlchemy costs start-up time."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "resend_idempotency"

    key: str = Field(primary_key=True)
    fingerprint: str
    status: int
    body: str
    created: float


class ResourceRow(SQLModel, table=True):
    __tablename__ = "resend_resources"

    id: str = Field(primary_key=True)
    kind: str = Field(index=True)  # domain | api_key | template
    name: str = ""
    data_json: str = "{}"
    created: float = 0.0
