"""The database schema, as SQLModel tables: the single source of truth for table and column names.

Migrations (``sandbox.storage.migrations``, plain SQL) create these tables and
``tests/sandbox/storage/test_schema.py`` checks that they match; stores read and write them
with SQL. Nothing imports this module at run time (SQLAlchemy costs start-up time).
Timestamps are epoch seconds (float, millisecond precision). Lists and objects are JSON text.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Field, SQLModel


class MessageRow(SQLModel, table=True):
    """One captured message: the summary the list views need. Raw bytes live in ``message_raw``."""

    __tablename__ = "messages"

    seq: int | None = Field(default=None, primary_key=True)  # rowid alias; FTS rowid
    id: str = Field(unique=True, index=True)  # public 22-char base62 id
    created: float = Field(index=True)
    inbox: str = "default"  # indexed with created: ix_messages_inbox_created
    source: str = "smtp"  # smtp | sendgrid | mailgun | api | cli
    username: str = ""
    mail_from: str = ""  # envelope sender
    recipients: str = "[]"  # envelope recipients (JSON list)
    message_id: str = ""  # Message-ID header without <>
    from_json: str = '{"Name": "", "Address": ""}'
    to_json: str = "[]"
    cc_json: str = "[]"
    bcc_json: str = "[]"
    reply_to_json: str = "[]"
    return_path: str = ""
    subject: str = ""
    date: str = ""  # RFC 3339 from the Date header, with its own offset ("" = unknown)
    size: int = 0
    snippet: str = ""
    attachments: int = 0
    inlines: int = 0
    read: bool = False
    metadata_json: str = "{}"  # ESP metadata (categories, custom args, ids, options)
    parse_error: str = ""  # non-empty when the MIME could not be parsed; raw is still kept


class MessageRawRow(SQLModel, table=True):
    """A message's bytes as stored: ``codec`` says how (see ``sandbox.storage.rawcodec``)."""

    __tablename__ = "message_raw"

    seq: int = Field(primary_key=True, foreign_key="messages.seq")
    raw: bytes
    codec: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})  # 0 plain


class MessagePartRow(SQLModel, table=True):
    """Metadata of attachment and inline parts (bytes are decoded from the raw on request)."""

    __tablename__ = "message_parts"

    seq: int | None = Field(default=None, primary_key=True)
    message_seq: int = Field(index=True, foreign_key="messages.seq")
    part_id: str
    filename: str = ""
    content_type: str = ""
    content_id: str = ""
    disposition: str = "attachment"  # attachment | inline
    size: int = 0
    md5: str = ""
    sha1: str = ""
    sha256: str = ""


class MessageTagRow(SQLModel, table=True):
    __tablename__ = "message_tags"

    message_seq: int = Field(primary_key=True, foreign_key="messages.seq")
    tag: str = Field(primary_key=True, index=True)


class DeliveryEventRow(SQLModel, table=True):
    """A delivery event in the shared vocabulary (queued, delivered, deferred, bounced, ...)."""

    __tablename__ = "events"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    message_id: str  # MessageRow.id; indexed with created: ix_events_message_created
    recipient: str = Field(default="", index=True)
    type: str = Field(index=True)
    created: float = Field(index=True)
    provider: str = ""  # smtp | sendgrid | mailgun | api
    reason: str = ""
    code: int = 0
    details_json: str = "{}"


class SuppressionRow(SQLModel, table=True):
    """An address on a suppression list. ``scope`` is '' (account-wide) or a Mailgun domain."""

    __tablename__ = "suppressions"

    seq: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # bounce|block|spam_report|invalid_email|unsubscribe|
    #                                global_unsubscribe|complaint|whitelist
    scope: str = ""
    email: str = Field(index=True)  # stored lower-cased
    reason: str = ""
    code: str = ""
    created: float = 0.0
    details_json: str = "{}"


class WebhookEndpointRow(SQLModel, table=True):
    """A webhook the app configured (through an emulated settings API, the CLI or the UI)."""

    __tablename__ = "webhook_endpoints"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    provider: str = Field(index=True)  # sendgrid | mailgun | generic
    scope: str = ""  # Mailgun domain; '' otherwise
    url: str = ""
    events_json: str = "[]"  # the provider's own event names this endpoint wants
    enabled: bool = True
    signed: bool = False
    friendly_name: str = ""
    created: float = 0.0
    updated: float = 0.0
    details_json: str = "{}"


class InboxRuleRow(SQLModel, table=True):
    """An inbox rule added through the API or the UI (``--inbox-rule`` ones are not stored)."""

    __tablename__ = "inbox_rules"

    seq: int | None = Field(default=None, primary_key=True)  # the order rules are tried in
    id: str = Field(unique=True)
    rule: str = ""  # FIELD:PATTERN=INBOX
    created: float = 0.0


class ReleaseRow(SQLModel, table=True):
    """One release or auto-relay of a message (created by the relay's own migration)."""

    __tablename__ = "releases"

    seq: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True)  # messages.id
    created: float = 0.0
    kind: str = "release"  # release (asked for) | auto (--relay-match)
    server: str = ""  # HOST:PORT it went to
    sender: str = ""  # envelope sender used
    recipients_json: str = "[]"
    ok: bool = False
    reply: str = ""  # the upstream's reply to the message, or what went wrong


CORE_TABLES = [
    MessageRow,
    MessageRawRow,
    MessagePartRow,
    MessageTagRow,
    DeliveryEventRow,
    SuppressionRow,
    WebhookEndpointRow,
]
