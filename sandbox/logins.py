"""Who may log in, and which inboxes each login may see.

The UI and REST API take the ``--ui-auth`` logins; POP3 takes those plus its own
``--pop3-auth`` ones. A login sees every inbox unless ``--inbox-scope USER=a,b`` limits it to
some (a scope names inboxes, which need not hold mail yet). Passwords are compared in constant
time.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The inboxes a request may see: a login's scope, or None for all of them.
Visible = frozenset[str] | None


@dataclass(frozen=True)
class Login:
    user: str
    inboxes: frozenset[str] | None = None  # the inboxes it may see; None: all of them

    def sees(self, inbox: str) -> bool:
        return self.inboxes is None or inbox in self.inboxes


ANYONE = Login("")


class Logins:
    """A set of ``user: password`` logins with their scopes; empty means anyone may log in."""

    def __init__(
        self,
        credentials: Iterable[tuple[str, str]],
        scopes: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.passwords: dict[str, str] = {}
        for user, password in credentials:
            self.passwords.setdefault(user, password)  # the first wins, as on the command line
        self.scopes = dict(scopes or {})

    @property
    def required(self) -> bool:
        return bool(self.passwords)

    def login(self, user: str) -> Login:
        return Login(user, self.scopes.get(user))

    def check(self, user: str, password: str) -> Login | None:
        """The login for these credentials, or None. Without logins, any credentials do."""
        if not self.passwords:
            return self.login(user)
        expected = self.passwords.get(user)
        # compare even for an unknown user, so the time taken does not tell users apart
        same = hmac.compare_digest(password.encode(), (expected or "\x00" + password).encode())
        return self.login(user) if expected is not None and same else None
