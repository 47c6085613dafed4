"""What a Query action (SES v1 or SNS) is handed: the sandbox, the signed caller, the URL the
client reached the sandbox at, and the request's parameters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mailsandbox.emulators.ses.errors import BAD_REQUEST, ErrorKind, SesError
from mailsandbox.emulators.ses.sigv4 import Caller
from mailsandbox.runtime import Sandbox


@dataclass
class QueryContext:
    sandbox: Sandbox
    caller: Caller
    base_url: str
    params: dict[str, Any]

    def get(self, name: str, default: Any = "") -> Any:
        return self.params.get(name, default)

    def require(self, name: str, kind: ErrorKind = BAD_REQUEST) -> Any:
        value = self.params.get(name)
        if value is None or value == "":
            raise SesError(kind, f"Value null at '{name[:1].lower() + name[1:]}' failed to"
                           " satisfy constraint: Member must not be null")  # fmt: skip
        return value


Action = Callable[[QueryContext], Awaitable[dict[str, Any] | None]]
