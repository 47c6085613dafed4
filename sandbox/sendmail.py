"""``mailsandbox sendmail``: a sendmail replacement that submits to a running sandbox over SMTP.

For PHP's ``sendmail_path``, cron's ``MAILTO``, ``mail(1)`` and anything else that pipes a
message into ``sendmail``. It reads the message on standard input and sends it to the sandbox
(``--smtp HOST:PORT``, else ``MAILSANDBOX_SMTP``, else ``127.0.0.1:1025``), logging in with
``--auth USER:PASS`` (else the first of ``MAILSANDBOX_SMTP_AUTH``) when given: the user name then
names the inbox.

Options as sendmail and Postfix take them:

- ``-t``: the recipients are read from the To, Cc and Bcc headers (added to those on the
  command line, as Postfix does) and the Bcc header is removed;
- ``-f ADDR`` (or ``-fADDR``): the envelope sender (else the From address, else
  ``USER@localhost``); ``-F NAME``: the full name for a From header the message lacks;
- ``-i`` / ``-oi``: a line with a single dot does not end the message (without it, it does);
- ``-v``: show the SMTP dialogue; ``-bm``, ``-odi``, ``-oem`` and other ``-o`` options, ``-N``,
  ``-R``: accepted and ignored.

A message without From or Date gets them (as Postfix's cleanup does); line endings become CRLF.
The exit status follows sysexits.h: 0 sent, 64 bad usage, 65 no recipients or a message that
cannot be read, 67 a recipient refused, 69 the sandbox refused the message, 75 the sandbox
cannot be reached (try again later), 77 the login was refused, 78 a bad ``--smtp`` address.

Only the standard library is imported (it runs once per message sent): keep it that way.
"""

from __future__ import annotations

import getpass
import os
import re
import smtplib
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formataddr, formatdate, getaddresses

EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER = 0, 64, 65, 67
EX_UNAVAILABLE, EX_TEMPFAIL, EX_NOPERM, EX_CONFIG = 69, 75, 77, 78
VALUED = {"-f", "-F", "-o", "-N", "-R", "-B", "-O", "-X", "-L", "-V"}
USAGE = (
    "usage: mailsandbox sendmail [-t] [-i] [-f sender] [-F name] [-v] [--smtp HOST:PORT]"
    " [--auth USER:PASS] [--tls-ca FILE] [recipient ...]"
)
_LINE_END = re.compile(rb"\r?\n")


class SendmailError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


@dataclass
class Options:
    recipients: list[str] = field(default_factory=list)
    from_headers: bool = False  # -t
    dot_ends: bool = True  # no -i / -oi
    sender: str = ""  # -f
    full_name: str = ""  # -F
    verbose: bool = False
    smtp: str = ""
    auth: str = ""
    tls_ca: str = ""


def parse_args(argv: Sequence[str]) -> Options:
    """sendmail's command line: single-letter flags, values attached or separate."""
    options = Options()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            options.recipients += args
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if name not in ("--smtp", "--auth", "--tls-ca"):
                raise SendmailError(EX_USAGE, f"unknown option {name}\n{USAGE}")
            if not eq:
                if not args:
                    raise SendmailError(EX_USAGE, f"{name} needs a value\n{USAGE}")
                value = args.pop(0)
            setattr(options, name[2:].replace("-", "_"), value)
        elif arg.startswith("-") and len(arg) > 1:
            flag, attached = arg[:2], arg[2:]
            if flag in VALUED:
                if not attached:
                    if not args:
                        raise SendmailError(EX_USAGE, f"{flag} needs a value\n{USAGE}")
                    attached = args.pop(0)
                if flag == "-f":
                    options.sender = attached.strip("<>")
                elif flag == "-F":
                    options.full_name = attached
                elif flag == "-o" and attached == "i":
                    options.dot_ends = False
            elif arg == "-t":
                options.from_headers = True
            elif arg == "-i":
                options.dot_ends = False
            elif arg == "-v":
                options.verbose = True
            elif flag == "-b":
                if arg != "-bm":  # deliver a message: what this does anyway
                    raise SendmailError(EX_USAGE, f"{arg} is not supported (only -bm)\n{USAGE}")
            else:
                raise SendmailError(EX_USAGE, f"unknown option {arg}\n{USAGE}")
        else:
            options.recipients += [a.strip() for a in arg.split(",") if a.strip()]
    return options


def read_message(data: bytes, dot_ends: bool) -> bytes:
    """The message as typed: CRLF line endings, cut at a lone ``.`` line unless ``-i``."""
    lines = _LINE_END.split(data)
    if lines and lines[-1] == b"":
        lines.pop()
    if dot_ends and b"." in lines:
        lines = lines[: lines.index(b".")]
    return b"".join(line + b"\r\n" for line in lines)


def _header_block(message: bytes) -> tuple[bytes, bytes]:
    """(the header lines, each ending in CRLF; the body after the blank line)."""
    if message.startswith(b"\r\n"):
        return b"", message[2:]
    head, sep, body = message.partition(b"\r\n\r\n")
    return (head + b"\r\n", body) if sep else (message, b"")


def _fields(head: bytes) -> list[bytes]:
    fields: list[bytes] = []
    for line in head.split(b"\r\n")[:-1]:
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields


def _named(field_line: bytes) -> str:
    return field_line.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def _value(field_line: bytes) -> str:
    value = field_line.split(b":", 1)[1] if b":" in field_line else b""
    return value.decode("utf-8", "replace").replace("\r\n", "")


def prepare(message: bytes, options: Options) -> tuple[str, list[str], bytes]:
    """(envelope sender, recipients, the message to send)."""
    head, body = _header_block(message)
    fields = [(_named(f), f) for f in _fields(head)]
    recipients = list(options.recipients)
    if options.from_headers:
        listed = [_value(f) for name, f in fields if name in ("to", "cc", "bcc")]
        recipients += [address for _, address in getaddresses(listed) if address]
        fields = [(name, f) for name, f in fields if name != "bcc"]
    if not recipients:
        raise SendmailError(EX_DATAERR, "no recipients (name them, or use -t)")
    names = {name for name, _ in fields}
    from_values = [_value(f) for name, f in fields if name == "from"]
    from_address = next((a for _, a in getaddresses(from_values) if a), "")
    sender = options.sender or from_address or f"{_login()}@localhost"
    added = []
    if "from" not in names:
        added.append(f"From: {formataddr((options.full_name, sender))}".encode())
    if "date" not in names:
        added.append(f"Date: {formatdate(localtime=True)}".encode())
    head = b"".join(line + b"\r\n" for line in [*added, *(f for _, f in fields)])
    return sender, recipients, head + b"\r\n" + body


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "nobody"


def _address(options: Options) -> tuple[str, int]:
    text = options.smtp or os.environ.get("MAILSANDBOX_SMTP", "") or "127.0.0.1:1025"
    host, _, port = text.strip().rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SendmailError(EX_CONFIG, f"bad SMTP address {text!r}: expected HOST:PORT")
    return host, int(port)


def _credentials(options: Options) -> tuple[str, str] | None:
    text = options.auth or os.environ.get("MAILSANDBOX_SMTP_AUTH", "").split(",")[0].strip()
    if not text:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise SendmailError(EX_USAGE, "--auth expects USER:PASS")
    return user, password


def submit(options: Options, sender: str, recipients: list[str], message: bytes) -> None:
    host, port = _address(options)
    login = _credentials(options)
    try:
        client = smtplib.SMTP(host, port, timeout=60)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendmailError(
            EX_TEMPFAIL, f"cannot reach the sandbox at {host}:{port}: {exc}"
        ) from None
    with client:
        client.set_debuglevel(1 if options.verbose else 0)
        try:
            _session(client, options, login, sender, recipients, message)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendmailError(EX_NOPERM, f"login refused: {_reply(exc)}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(f"{r} ({c} {m.decode(errors='replace')})"
                                for r, (c, m) in exc.recipients.items())  # fmt: skip
            raise SendmailError(EX_NOUSER, f"recipients refused: {refused}") from None
        except smtplib.SMTPResponseException as exc:
            status = EX_TEMPFAIL if 400 <= exc.smtp_code < 500 else EX_UNAVAILABLE
            hint = (
                " (give --tls-ca FILE, the sandbox's certificate)" if exc.smtp_code == 530 else ""
            )
            raise SendmailError(status, f"refused: {_reply(exc)}{hint}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendmailError(EX_TEMPFAIL, f"{host}:{port}: {exc}") from None


def _session(
    client: smtplib.SMTP,
    options: Options,
    login: tuple[str, str] | None,
    sender: str,
    recipients: list[str],
    message: bytes,
) -> None:
    client.ehlo()
    if options.tls_ca:
        client.starttls(context=ssl.create_default_context(cafile=options.tls_ca))
        client.ehlo()
    if login is not None:
        client.login(*login)
    refused = client.sendmail(sender, recipients, message)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {' '.join(text.split())}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        options = parse_args(argv)
        data = sys.stdin.buffer.read()
        sender, recipients, message = prepare(read_message(data, options.dot_ends), options)
        submit(options, sender, recipients, message)
    except SendmailError as exc:
        print(f"mailsandbox sendmail: {exc}", file=sys.stderr)
        return exc.status
    except OSError as exc:  # standard input could not be read
        print(f"mailsandbox sendmail: {exc}", file=sys.stderr)
        return 74
    return EX_OK
