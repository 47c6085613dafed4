"""The shapes parsing produces: addresses, part metadata, and the parsed message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    name: str
    address: str

    def as_json(self) -> dict[str, str]:
        return {"Name": self.name, "Address": self.address}


@dataclass(frozen=True)
class PartInfo:
    part_id: str
    filename: str
    content_type: str
    content_id: str
    disposition: str  # "attachment" | "inline"
    size: int
    md5: str
    sha1: str
    sha256: str


@dataclass
class ParsedMessage:
    message_id: str = ""
    from_: Address = field(default_factory=lambda: Address("", ""))
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    return_path: str = ""
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    html: str = ""
    parts: list[PartInfo] = field(default_factory=list)
    snippet: str = ""
    search_text: str = ""
    x_tags: list[str] = field(default_factory=list)
    inbox_header: str = ""  # X-Sandbox-Inbox

    @property
    def attachments(self) -> list[PartInfo]:
        return [p for p in self.parts if p.disposition == "attachment"]

    @property
    def inlines(self) -> list[PartInfo]:
        return [p for p in self.parts if p.disposition == "inline"]
