"""Postmark's tables as SQLModel classes: the description of the schema that ``migrations.py``
creates (checked by ``tests/sandbox/storage/test_schema.py``). Not imported at run
time: SQLAlchemy costs start-up time."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StreamRow(SQLModel, table=True):
    __tablename__ = "postmark_streams"

    id: str = Field(primary_key=True)
    name: str = ""
    description: str = ""
    type: str = "Transactional"
    unsubscribe_handling: str = "None"
    created: float = 0.0
    updated: float = 0.0
    archived: float = 0.0


class TemplateRow(SQLModel, table=True):
    __tablename__ = "postmark_templates"

    id: int | None = Field(default=None, primary_key=True)
    alias: str | None = None
    name: str = ""
    subject: str = ""
    html: str = ""
    text: str = ""
    type: str = "Standard"
    layout: str | None = None
    active: bool = True
    created: float = 0.0
    updated: float = 0.0
