"""Start-up failures a user can fix: :class:`StartupError` and the checks that raise it.

A port in use, a ``--db`` that cannot work, a damaged database file: each is told as one
line that says what is wrong and what to do. ``mailsandbox serve`` prints it as
``mailsandbox serve: <message>`` and exits with status 2 (like a bad flag); the pytest plugin
and ``start_in_thread`` let it propagate. Checks run before anything is printed as listening
and, where possible, before anything is written to disk.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from pathlib import Path


class StartupError(Exception):
    """The sandbox cannot start; the message is one line for the user."""


def bind_error(service: str, flag: str, host: str, port: int, exc: OSError) -> StartupError:
    """The :class:`StartupError` for a listen address that could not be bound."""
    where = f"{service} address {_hostport(host, port)}"
    if isinstance(exc, socket.gaierror):
        reason = "names a host that does not resolve"
    elif exc.errno == errno.EADDRINUSE:
        reason = "is already in use (another mailsandbox or mail catcher running?)"
    elif exc.errno == errno.EACCES:
        reason = "is not allowed for this user (ports below 1024 need privileges)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        reason = "is not an address of this machine"
    else:
        reason = f"cannot be listened on ({exc.strerror or exc})"
    return StartupError(f"{where} {reason}; choose another with {flag}")


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_tcp(service: str, flag: str, host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (as uvicorn binds: SO_REUSEADDR), or the error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise bind_error(service, flag, host, port, exc) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise bind_error(service, flag, host, port, exc) from None
    sock.set_inheritable(True)
    return sock


def bind_http(address: tuple[str, int]) -> socket.socket:
    """The HTTP listening socket, bound before anything else starts (a port in use fails
    first, before the app is even imported)."""
    return bind_tcp("HTTP", "--http", *address)


def check_database_path(path: Path) -> None:
    """Fail with a clear message unless ``path`` can be (or is) a writable database file.

    The database's directory must exist (a typo in ``--db`` should not quietly create a new
    tree) and take new files: SQLite keeps ``-wal``/``-shm`` files beside the database, and
    the search index, TLS pair and signing keys live there too.
    """
    if path.is_dir():
        raise StartupError(
            f"--db {path} is a directory; give a file name, e.g. {path / 'mailsandbox.db'}"
        )
    directory = path.parent
    if not directory.exists():
        raise StartupError(
            f"the directory of --db {path} does not exist; create it (mkdir -p {directory})"
            " or choose another --db"
        )
    if not directory.is_dir():
        raise StartupError(f"--db {path}: {directory} is not a directory")
    if path.exists() and not path.is_file():
        raise StartupError(f"--db {path} is not a regular file")
    try:
        with tempfile.TemporaryFile(dir=directory, prefix=".mailsandbox-probe-"):
            pass
        if path.exists():
            with path.open("r+b"):
                pass
    except OSError as exc:
        raise StartupError(_unwritable(path, directory, exc)) from None


def _unwritable(path: Path, directory: Path, exc: OSError) -> str:
    what = path if exc.filename and Path(exc.filename) == path else directory
    reason = exc.strerror or str(exc)
    message = f"cannot write to {what} ({reason})"
    if exc.errno in (errno.EACCES, errno.EPERM):
        try:
            owner = what.stat().st_uid
        except OSError:
            owner = -1
        uid = os.geteuid()
        if owner >= 0 and owner != uid:
            # The usual case: a Docker bind mount created by root, the image running as 1000.
            return (
                f"{message}: it belongs to uid {owner} and mailsandbox runs as uid {uid};"
                f" run `chown {uid} {what}` (for a Docker bind mount: on the host directory,"
                " or use a named volume) or choose another --db"
            )
    return f"{message}; choose another --db"


def database_error(path: Path, exc: Exception) -> StartupError:
    """The :class:`StartupError` for a database file SQLite cannot use (garbage, damaged)."""
    return StartupError(
        f"{path} is not a usable SQLite database ({exc}); it is left as it is: move it aside"
        " to start afresh, or choose another --db"
    )
