"""Outside servers the message-check tests talk to: a local site whose pages answer with fixed
statuses (link check), and a real SpamAssassin spamd (spam score)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.sandbox.serve_process import free_port
from tests.tools import require_program
from tests.waiting import eventually

# Path -> status the link server answers (HEAD and GET); /moved redirects to /ok.
STATUSES = {"/ok": 200, "/missing": 404, "/broken": 500, "/moved": 301, "/loop": 302}


class LinkServer:
    """A local site whose pages answer with fixed statuses, recording each request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                seen.append((self.command, self.path))
                path = urlsplit(self.path).path
                self.send_response(STATUSES.get(path, 404))
                if path == "/moved":
                    self.send_header("Location", "/ok")
                if path == "/loop":
                    self.send_header("Location", "/loop")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def spamd_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"PING SPAMC/1.5\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            return b"PONG" in sock.recv(1024)
    except OSError:
        return False


@contextlib.contextmanager
def running_spamd(home: Path) -> Iterator[str]:
    """A real SpamAssassin spamd (Debian's) on a free loopback port, rules local only, its
    state in ``home``; yields its ``HOST:PORT`` once it answers PING."""
    program = require_program("spamd", "spamd")
    home.chmod(0o777)  # spamd runs as nobody below and keeps its state here
    port = free_port()
    command = [
        program, "--local", "-i", "127.0.0.1", "-p", str(port), "-A", "127.0.0.1",
        "-H", str(home), "-m", "1", "--min-children", "1", "-s", "stderr",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command += ["-u", "nobody"]  # spamd refuses to run as root
    log_path = Path(home) / "spamd.log"
    log = log_path.open("w")
    proc = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)

    def answering() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"spamd exited:\n{log_path.read_text()[-2000:]}")
        return spamd_answers(port)

    try:
        eventually(answering, timeout=90, what="spamd answering PING")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()
