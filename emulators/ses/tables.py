"""SES and SNS tables as SQLModel classes: the description of the schema that ``migrations.py``
creates (checked by ``tests/sandbox/storage/test_schema.py``). Not imported at run
time: SQLAlchemy costs start-up time."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class TemplateRow(SQLModel, table=True):
    __tablename__ = "ses_templates"

    name: str = Field(primary_key=True)
    subject: str = ""
    text: str = ""
    html: str = ""
    created: float = 0.0
    tags_json: str = "[]"


class TopicRow(SQLModel, table=True):
    __tablename__ = "sns_topics"

    arn: str = Field(primary_key=True)
    name: str = ""
    created: float = 0.0
    attributes_json: str = "{}"


class SubscriptionRow(SQLModel, table=True):
    __tablename__ = "sns_subscriptions"

    arn: str = Field(primary_key=True)
    topic_arn: str = Field(index=True)
    protocol: str = ""
    endpoint: str = ""
    confirmed: int = 0
    token: str = Field(default="", index=True)
    base_url: str = ""
    created: float = 0.0
    attributes_json: str = "{}"


class ConfigSetRow(SQLModel, table=True):
    __tablename__ = "ses_configuration_sets"

    name: str = Field(primary_key=True)
    created: float = 0.0
    options_json: str = "{}"  # the v2 shape: SendingOptions, TrackingOptions, Tags...


class DestinationRow(SQLModel, table=True):
    __tablename__ = "ses_event_destinations"

    seq: int | None = Field(default=None, primary_key=True)
    config_set: str = Field(index=True)
    name: str = ""
    enabled: int = 0
    event_types_json: str = "[]"
    topic_arn: str = Field(default="", index=True)
    definition_json: str = "{}"  # the v2 EventDestinationDefinition as given


class AccountRow(SQLModel, table=True):
    __tablename__ = "ses_account"

    key: str = Field(primary_key=True)
    value_json: str = "null"
