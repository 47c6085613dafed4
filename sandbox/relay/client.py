"""One SMTP session to the relay server: TLS as configured, AUTH, the envelope, the message.

Blocking (``smtplib``); the relay runs it in a worker thread. All or nothing: if the server
refuses any recipient, the transaction is reset before DATA, so a release reaches every
recipient or none (Mailpit's ``forward-smtp-errors`` behaviour, always on). Every failure is a
:class:`RelayError` whose text is the server's own reply where there is one.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence

from mailsandbox.relay.config import RelayConfig

TIMEOUT = 60.0


class RelayError(Exception):
    """The relay server (or the way to it) failed; the text says how."""


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(message.split())}".strip()


def _context(config: RelayConfig) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=config.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise RelayError(f"cannot load --relay-tls-ca {config.ca_file}: {exc}") from None


def _connect(config: RelayConfig) -> smtplib.SMTP:
    where = f"{config.server}"
    try:
        if config.tls == "tls":
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=TIMEOUT, context=_context(config)
            )
        return smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
    except (OSError, smtplib.SMTPException) as exc:
        raise RelayError(f"error connecting to {where}: {exc}") from None


def _mail_options(
    client: smtplib.SMTP, sender: str, recipients: Sequence[str], raw: bytes
) -> list[str]:
    options = []
    if client.has_extn("8bitmime") and any(byte > 127 for byte in raw):
        options.append("BODY=8BITMIME")
    if not all(a.isascii() for a in (sender, *recipients)):
        if not client.has_extn("smtputf8"):
            raise RelayError("the relay server does not offer SMTPUTF8 for non-ASCII addresses")
        options.append("SMTPUTF8")
    return options


def _session(
    client: smtplib.SMTP, config: RelayConfig, sender: str, recipients: Sequence[str], raw: bytes
) -> str:
    client.ehlo()
    if config.tls == "starttls":
        if not client.has_extn("starttls"):
            raise RelayError(f"{config.server} does not offer STARTTLS")
        client.starttls(context=_context(config))
        client.ehlo()
    if config.username:
        client.login(config.username, config.password)
    code, text = client.mail(sender, _mail_options(client, sender, recipients, raw))
    if code != 250:
        raise RelayError(f"MAIL FROM:<{sender}>: {_reply(code, text)}")
    for recipient in recipients:
        code, text = client.rcpt(recipient)
        if code not in (250, 251):
            client.rset()
            raise RelayError(f"RCPT TO:<{recipient}>: {_reply(code, text)}")
    code, text = client.data(raw)
    if code != 250:
        raise RelayError(f"DATA: {_reply(code, text)}")
    return _reply(code, text)


def deliver(config: RelayConfig, sender: str, recipients: Sequence[str], raw: bytes) -> str:
    """Send ``raw`` to ``recipients``; returns the server's reply to the message (``250 …``)."""
    client = _connect(config)
    try:
        reply = _session(client, config, sender, recipients, raw)
    except smtplib.SMTPAuthenticationError as exc:
        raise RelayError(f"AUTH: {_reply(exc.smtp_code, exc.smtp_error)}") from None
    except smtplib.SMTPResponseException as exc:
        raise RelayError(_reply(exc.smtp_code, exc.smtp_error)) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise RelayError(str(exc)) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise RelayError(f"{config.server}: {exc}") from None
    finally:
        if "reply" not in locals():  # after a failure the connection may be unusable: just close
            client.close()
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
    return reply
