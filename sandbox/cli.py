"""The ``mailsandbox`` command: ``serve`` the sandbox, ``ingest`` .eml files into a running one,
``healthcheck`` it (the Docker image's HEALTHCHECK).

Flags for ``serve`` are generated from :class:`~mailsandbox.config.Settings`, each also readable
from ``MAILSANDBOX_<NAME>``; flags win over the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import os
import smtplib
import sys
from collections.abc import Sequence
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mailsandbox import __version__
from mailsandbox.config import ENV_PREFIX, Settings, parse_hostport, setting_fields
from mailsandbox.startup import StartupError, bind_http

if TYPE_CHECKING:
    import http.client


class _Parser(argparse.ArgumentParser):
    """A bad flag is one line on stderr (exit 2), like every other start-up failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mailsandbox",
        description="Local email sandbox: catches SMTP and SendGrid/Mailgun API mail.",
    )
    parser.add_argument("--version", action="version", version=f"mailsandbox {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the sandbox (SMTP, web UI, REST and ESP APIs)",
        description="Run the sandbox. Every flag can also be set as MAILSANDBOX_<FLAG_NAME>.",
    )
    defaults = Settings()
    for f in setting_fields():
        meta = f.metadata
        default = getattr(defaults, f.name)
        env = ENV_PREFIX + f.name.upper()
        help_text = f"{meta['help']} [env {env}; default {default!r}]"
        kwargs: dict[str, object] = {"dest": f.name, "default": None, "help": help_text}
        if meta.get("metavar"):
            kwargs["metavar"] = meta["metavar"]
        if meta.get("repeat"):
            kwargs["action"] = "append"
        elif isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif isinstance(default, int):
            kwargs["type"] = int
        elif isinstance(default, float):
            kwargs["type"] = float
        serve.add_argument(_flag(f.name), **kwargs)  # type: ignore[arg-type]

    commands.add_parser(
        "sendmail",
        add_help=False,  # sendmail's own options: see mailsandbox.sendmail (and docs/cli.md)
        help="a sendmail replacement: submit the message on stdin to a running sandbox",
    )
    commands.add_parser(
        "healthcheck",
        help="exit 0 if the sandbox this environment configures answers /readyz (Docker)",
        description="Exit 0 if the sandbox at --http / MAILSANDBOX_HTTP (a wildcard address"
        " means this machine) answers GET /readyz with 200, else 1.",
    )
    ingest = commands.add_parser(
        "ingest", help="deliver .eml files (or - for stdin) to a running sandbox over SMTP"
    )
    ingest.add_argument("files", nargs="+", metavar="FILE", help=".eml files, or - for stdin")
    ingest.add_argument(
        "--smtp", default="127.0.0.1:1025", metavar="HOST:PORT", help="sandbox SMTP address"
    )
    ingest.add_argument("--from", dest="sender", default="", help="envelope sender override")
    ingest.add_argument(
        "--to",
        action="append",
        default=[],
        help="envelope recipient (repeatable; default: headers)",
    )
    for name, text in (
        (
            "import",
            "store mbox files, Maildirs, .eml files and folders of them in a running sandbox",
        ),
        ("export", "download the messages a search matches as mbox, a Maildir or a zip of .eml"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        if name == "import":
            sub.add_argument("paths", nargs="+", metavar="PATH", help="mbox, .eml, Maildir, folder")
        else:
            sub.add_argument("--query", default="", help="search syntax (default: every message)")
            sub.add_argument("--format", default="mbox", choices=("mbox", "maildir", "eml-zip"))
            sub.add_argument(
                "--output", "-o", default="-", metavar="PATH",
                help="a file (default: standard output); a folder for maildir",
            )  # fmt: skip
        sub.add_argument("--inbox", default="", help="into (from) this inbox only")
        sub.add_argument(
            "--url", default=os.environ.get("MAILSANDBOX_URL", "http://127.0.0.1:8025"),
            help="the sandbox (env MAILSANDBOX_URL)",
        )  # fmt: skip
        sub.add_argument("--auth", default="", metavar="USER:PASS", help="a --ui-auth login")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings)}
    return Settings.from_env(**overrides)


def configure_logging(level_name: str) -> None:
    level = logging.getLevelName(level_name.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != logging.DEBUG:  # aiosmtpd logs every command at INFO: only when debugging
        logging.getLogger("mail.log").setLevel(logging.WARNING)


def startup_failed(exc: Exception) -> int:
    """A start-up failure the user can fix: one line on stderr, exit status 2."""
    print(f"mailsandbox serve: {exc}", file=sys.stderr)
    return 2


def serve(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM (exit 0); a start-up failure is one line on stderr, exit 2."""
    # Start-up allocates millions of long-lived objects (modules, routes, models): collecting
    # while it runs costs ~0.1 s for nothing. Collection resumes once serving, with those
    # objects frozen out of every later collection.
    gc.disable()
    try:
        http_socket = bind_http(settings.http_address)  # a port in use fails before imports
    except StartupError as exc:
        return startup_failed(exc)
    from mailsandbox.app import create_app
    from mailsandbox.runner import SandboxServer, server_config
    from mailsandbox.runtime import Sandbox

    configure_logging(settings.log_level)

    def announce(sandbox: Sandbox) -> None:
        """Printed once SMTP and HTTP both listen (never before)."""
        gc.freeze()
        gc.enable()
        from mailsandbox.pop3.access import pop3_of

        host, port = settings.http_address[0], http_socket.getsockname()[1]
        smtp_host, smtp_port = sandbox.smtp_address
        lines = [
            f"mailsandbox {__version__}",
            f"  SMTP     smtp://{smtp_host}:{smtp_port}",
        ]
        if sandbox.smtps_address:
            lines.append(
                f"  SMTPS    smtps://{sandbox.smtps_address[0]}:{sandbox.smtps_address[1]}"
            )
        pop3 = pop3_of(sandbox)
        for implicit_tls, label in ((False, "POP3 "), (True, "POP3S")):
            address = pop3.address(implicit_tls=implicit_tls) if pop3 else None
            if address:
                lines.append(f"  {label}    {label.strip().lower()}://{address[0]}:{address[1]}")
        web = f"{'https' if settings.tls_enabled('http') else 'http'}://{host}:{port}"
        lines += [
            f"  Web UI   {web}/",
            f"  API      {web}/api/v1/  (docs: {web}/api/docs)",
            f"  Database {sandbox.db.backend}",
        ]
        print("\n".join(lines), flush=True)

    try:
        app = create_app(settings)
        SandboxServer(server_config(app), on_ready=announce).run(sockets=[http_socket])
    except (StartupError, ValueError) as exc:  # ValueError: a bad rules file, TLS file...
        return startup_failed(exc)
    except KeyboardInterrupt:  # Ctrl-C while starting, before the server handles signals
        return 130
    # The interpreter's final garbage collection walks every object of every imported module
    # (~0.4 s here); frozen objects are skipped, so the process ends as soon as it is done.
    gc.freeze()
    return 0


def healthcheck(settings: Settings) -> int:
    """The Docker HEALTHCHECK: is the sandbox this environment describes ready? http.client,
    not urllib: a proxy set in the container's environment must not be used for this."""
    host, port = settings.http_address
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        connection = _health_connection(settings, host, port)
        connection.request("GET", "/readyz")
        status = connection.getresponse().status
    except OSError as exc:
        print(f"mailsandbox healthcheck: {host}:{port}: {exc}", file=sys.stderr)
        return 1
    finally:
        if "connection" in locals():
            connection.close()
    if status != 200:
        print(f"mailsandbox healthcheck: /readyz answered {status}", file=sys.stderr)
        return 1
    return 0


def _health_connection(settings: Settings, host: str, port: int) -> http.client.HTTPConnection:
    """Plain HTTP, or with --http-tls HTTPS trusting the sandbox's own certificate (whatever
    name it was made for: this connects to an address)."""
    import http.client  # (here: the server itself never needs it)

    if not settings.tls_enabled("http"):
        return http.client.HTTPConnection(host, port, timeout=2)
    import ssl

    from mailsandbox.smtp import tls

    cert = settings.http_tls_cert or str(settings.data_dir / tls.CERT_FILE)
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = False
    return http.client.HTTPSConnection(host, port, timeout=2, context=context)


def ingest_files(paths: Sequence[str], smtp: str, sender: str, recipients: list[str]) -> int:
    from mailsandbox.ingest import normalize_line_endings

    host, port = parse_hostport(smtp)
    sent = 0
    with smtplib.SMTP(host, port, timeout=60) as client:
        for path in paths:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
            headers = BytesHeaderParser().parsebytes(raw)
            rcpts = recipients or [
                addr
                for _, addr in getaddresses(
                    [str(v) for name in ("To", "Cc", "Bcc") for v in headers.get_all(name, [])]
                )
                if addr
            ]
            if not rcpts:
                print(f"{path}: no recipients (add --to)", file=sys.stderr)
                return 1
            mail_from = sender or next(
                (a for _, a in getaddresses([str(headers.get("From", ""))]) if a), ""
            )
            # SMTP lines end in CRLF: smtplib dot-stuffs every line that starts with "." and
            # the server un-stuffs only after CRLF, so a bare-LF file would keep ".." lines.
            client.sendmail(mail_from, rcpts, normalize_line_endings(raw))
            sent += 1
    print(f"delivered {sent} message(s) to {host}:{port}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    invoked_as_sendmail = argv is None and Path(sys.argv[0]).name == "sendmail"
    if invoked_as_sendmail or words[:1] == ["sendmail"]:  # its own syntax; nothing else loaded
        from mailsandbox.sendmail import main as sendmail

        return sendmail(words if invoked_as_sendmail else words[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            settings = settings_from_args(args)
        except ValueError as exc:
            return startup_failed(exc)
        return serve(settings)
    if args.command == "healthcheck":
        try:
            return healthcheck(Settings.from_env())
        except ValueError as exc:
            print(f"mailsandbox healthcheck: {exc}", file=sys.stderr)
            return 1
    if args.command == "ingest":
        try:
            return ingest_files(args.files, args.smtp, args.sender, args.to)
        except (OSError, smtplib.SMTPException) as exc:
            print(f"mailsandbox ingest: {exc}", file=sys.stderr)
            return 1
    if args.command in ("import", "export"):
        from mailsandbox import archive_cli

        return archive_cli.run(args.command, args)
    parser.print_help()
    return 2
