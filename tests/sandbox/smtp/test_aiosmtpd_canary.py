"""Canary: the private parts of aiosmtpd (and asyncio) that ``SandboxSMTP`` relies on still exist.

``sandbox/smtp/protocol.py`` subclasses aiosmtpd's ``SMTP`` and uses members aiosmtpd does not
promise to keep. pyproject.toml pins the minor version it was written for; before raising the
pin, these tests say exactly what changed. Every private name protocol.py touches must be listed
below (a scan of its source checks that), so a new use cannot slip past the canary.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import tomllib
from pathlib import Path

import aiosmtpd
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP

from mailsandbox.smtp import protocol

ROOT = Path(__file__).resolve().parents[3]
PINNED_MINOR = "1.4"
REVIEW = (
    "sandbox/smtp/protocol.py relies on it: review SandboxSMTP against aiosmtpd "
    f"{aiosmtpd.__version__} before changing the pin in pyproject.toml"
)

# Set by aiosmtpd on a connected protocol; SandboxSMTP reads or replaces them.
ATTRIBUTES = {
    "_timeout_handle",  # the idle timer, re-armed by SandboxSMTP._reset_timeout
    "_timeout_duration",
    "_original_transport",  # set by STARTTLS: tells the first connection_made from the TLS one
    "_tls_protocol",  # set by STARTTLS: the session is encrypted
    "_reader",  # DATA is read from it directly; its buffer shows pipelined commands
    "_writer",  # replies are written without drain()
}
# aiosmtpd methods SandboxSMTP calls.
METHODS = {"_timeout_cb", "_set_post_data_state", "_call_handler_hook"}
# aiosmtpd methods SandboxSMTP overrides, with one method that must still call each.
OVERRIDES = {
    "_reset_timeout": "_handle_client",  # one timer moved, not replaced, per command
    "_getaddr": "smtp_MAIL",  # the fast path for plain <local@domain> arguments
    "_create_session": "connection_made",  # a session without the login_data warning
}
# Private names that are SandboxSMTP's own.
OWN = {"_deadline", "_replies", "_counted", "_flush_replies", "_idle_check"}
# Reply texts SandboxSMTP.push() rewrites: aiosmtpd must still send them.
REWRITTEN = {
    "smtp_EHLO": ['"250-AUTH "', "'250 HELP'"],
    "_handle_client": [repr(protocol.STARTTLS_FIRST)],
}


def test_aiosmtpd_is_the_pinned_minor_version() -> None:
    assert aiosmtpd.__version__.startswith(PINNED_MINOR + "."), (
        f"aiosmtpd {aiosmtpd.__version__} is installed, SandboxSMTP was written for "
        f"{PINNED_MINOR}.x: {REVIEW}"
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (spec,) = (d for d in project["dependencies"] if d.startswith("aiosmtpd"))
    assert re.fullmatch(rf"aiosmtpd>={re.escape(PINNED_MINOR)}\.\d+,<1\.5", spec), spec


def test_every_private_name_protocol_py_uses_is_listed() -> None:
    tree = ast.parse(inspect.getsource(protocol))
    (cls,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SandboxSMTP")
    used: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            used.add(node.name)
        elif isinstance(node, ast.Attribute) and (
            (isinstance(node.value, ast.Name) and node.value.id == "self")
            or (isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "super")
        ):
            used.add(node.attr)
    private = {n for n in used if n.startswith("_") and not n.startswith("__")}
    unlisted = private - ATTRIBUTES - METHODS - set(OVERRIDES) - OWN
    assert not unlisted, (
        f"SandboxSMTP uses {sorted(unlisted)}: list each in this canary (ATTRIBUTES, METHODS, "
        "OVERRIDES or OWN) so a change in aiosmtpd is caught"
    )


def test_aiosmtpd_still_has_what_sandbox_smtp_uses() -> None:
    for name in sorted(METHODS | set(OVERRIDES)):
        assert callable(getattr(SMTP, name, None)), f"aiosmtpd SMTP.{name} is gone; {REVIEW}"
    for name in sorted(OWN):
        assert not hasattr(SMTP, name), f"aiosmtpd now defines SMTP.{name} too; {REVIEW}"
    for name, caller in OVERRIDES.items():
        source = inspect.getsource(getattr(SMTP, caller))
        assert f"self.{name}(" in source, (
            f"aiosmtpd SMTP.{caller} no longer calls self.{name}(), so SandboxSMTP's override "
            f"does nothing; {REVIEW}"
        )
    for method, texts in REWRITTEN.items():
        source = inspect.getsource(getattr(SMTP, method))
        for text in texts:
            assert text in source, f"aiosmtpd SMTP.{method} no longer sends {text}; {REVIEW}"


def test_a_connected_aiosmtpd_protocol_has_the_attributes() -> None:
    missing, reader = asyncio.run(_connect_to_stock_aiosmtpd())
    assert not missing, f"a connected aiosmtpd SMTP has no {sorted(missing)}; {REVIEW}"
    # asyncio's, used by data.py and push(): no public "unread" or "is more buffered".
    assert isinstance(reader, asyncio.StreamReader)
    assert isinstance(getattr(reader, "_buffer", None), bytearray), (
        "asyncio.StreamReader._buffer is no longer a bytearray: review sandbox/smtp/data.py "
        "(_unread) and SandboxSMTP.push"
    )


async def _connect_to_stock_aiosmtpd() -> tuple[set[str], object]:
    loop = asyncio.get_running_loop()
    made: list[SMTP] = []

    def factory() -> SMTP:
        made.append(SMTP(Sink(), loop=loop))
        return made[-1]

    server = await loop.create_server(factory, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    reader, writer = await asyncio.open_connection(host, port)
    try:
        assert (await reader.readline()).startswith(b"220 ")  # greeted: fully connected
        (smtp,) = made
        return {name for name in ATTRIBUTES if not hasattr(smtp, name)}, smtp._reader
    finally:
        writer.close()
        server.close()
        await server.wait_closed()
