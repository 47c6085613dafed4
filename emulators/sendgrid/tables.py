"""SendGrid template tables as SQLModel classes: the description of the schema that
``migrations.py`` creates (checked by ``tests/sandbox/storage/test_schema.py``).
Not imported at run time: SQLAlchemy costs start-up time."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class TemplateRow(SQLModel, table=True):
    __tablename__ = "sendgrid_templates"

    id: str = Field(primary_key=True)
    name: str = ""
    generation: str = "dynamic"  # dynamic | legacy
    updated: float = 0.0


class TemplateVersionRow(SQLModel, table=True):
    __tablename__ = "sendgrid_template_versions"

    id: str = Field(primary_key=True)
    template_id: str = Field(index=True, foreign_key="sendgrid_templates.id")
    name: str = ""
    subject: str = ""
    html_content: str = ""
    plain_content: str = ""
    generate_plain_content: bool = True
    editor: str = "code"
    test_data: str = ""
    active: int = 0
    updated: float = 0.0


class SendGridBatchRow(SQLModel, table=True):
    __tablename__ = "sendgrid_batches"

    batch_id: str = Field(primary_key=True)
    created: float


class SendGridScheduledSendRow(SQLModel, table=True):
    __tablename__ = "sendgrid_scheduled_sends"

    batch_id: str = Field(primary_key=True)
    status: str
    updated: float


class SendGridAsmGroupRow(SQLModel, table=True):
    __tablename__ = "sendgrid_asm_groups"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    description: str = ""
    is_default: bool = False
    created: float
