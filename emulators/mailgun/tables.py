"""Mailgun template tables as SQLModel classes: the description of the schema that
``migrations.py`` creates (checked by ``tests/sandbox/storage/test_schema.py``).
Not imported at run time: SQLAlchemy costs start-up time."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class MailgunTemplateRow(SQLModel, table=True):
    __tablename__ = "mailgun_templates"

    seq: int | None = Field(default=None, primary_key=True)
    domain: str = Field(index=True)
    name: str
    description: str = ""
    created_by: str = ""
    created: float


class MailgunTemplateVersionRow(SQLModel, table=True):
    __tablename__ = "mailgun_template_versions"

    seq: int | None = Field(default=None, primary_key=True)
    domain: str = Field(index=True)
    name: str
    tag: str
    template: str = ""
    engine: str = "handlebars"
    comment: str = ""
    active: bool = False
    created: float


class MailgunTagRow(SQLModel, table=True):
    __tablename__ = "mailgun_tags"

    seq: int | None = Field(default=None, primary_key=True)
    domain: str
    tag: str
    description: str = ""
    deleted: float = 0.0  # when DELETE was called (0: never)
