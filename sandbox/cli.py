"""The ``mailsandbox`` command: ``serve`` the sandbox, ``ingest`` .eml files into a running one.

Flags for ``serve`` are generated from :class:`~mailsandbox.config.Settings`, each also readable
from ``MAILSANDBOX_<NAME>``; flags win over the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import signal
import smtplib
import sys
import threading
from collections.abc import Iterator, Sequence
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

import uvicorn

from mailsandbox import __version__
from mailsandbox.config import ENV_PREFIX, Settings, parse_hostport, setting_fields

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def serve(settings: Settings) -> int:
    from mailsandbox.app import create_app
    from mailsandbox.runner import server_config
    from mailsandbox.runtime import Sandbox

    configure_logging(settings.log_level)

    def announce(sandbox: Sandbox) -> None:
        host, port = settings.http_address
        smtp_host, smtp_port = sandbox.smtp_address
        lines = [
            f"mailsandbox {__version__}",
            f"  SMTP     smtp://{smtp_host}:{smtp_port}",
        ]
        if sandbox.smtps_address:
            lines.append(
                f"  SMTPS    smtps://{sandbox.smtps_address[0]}:{sandbox.smtps_address[1]}"
            )
        lines += [
            f"  Web UI   http://{host}:{port}/",
            f"  API      http://{host}:{port}/api/v1/  (docs: http://{host}:{port}/api/docs)",
            f"  Database {settings.db_path}",
        ]
        print("\n".join(lines), flush=True)

    host, port = settings.http_address
    try:
        app = create_app(settings, on_ready=announce)
    except ValueError as exc:  # a bad rules file or retry schedule: say so, no traceback
        print(f"mailsandbox serve: {exc}", file=sys.stderr)
        return 2
    server = _Server(server_config(app, host, port))
    server.run()
    return 0 if server.started else 1


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising SIGINT/SIGTERM after shutdown: a clean exit is 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def ingest_files(paths: Sequence[str], smtp: str, sender: str, recipients: list[str]) -> int:
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
            client.sendmail(mail_from, rcpts, raw)
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
        except ValueError as exc:  # one line, as for every start-up error (no usage dump)
            print(f"mailsandbox serve: {exc}", file=sys.stderr)
            return 2
        return serve(settings)
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
