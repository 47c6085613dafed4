"""HTTPS for the UI and the APIs (``--http-tls``), checked by clients that verify the
certificate: httpx, the websockets client, ``mailsandbox healthcheck``."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from mailsandbox.runner import RunningSandbox
from mailsandbox.smtp import tls
from tests.sandbox.serve_process import clean_env, launch_serve, run_serve
from tests.sandbox.smtp.test_tls import openssl_pair
from tests.waiting import eventually

Factory = Callable[..., RunningSandbox]


def test_self_signed_https_verifies_against_the_certificate_beside_the_database(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    running = sandbox_factory(http_tls="self-signed", smtp_tls="self-signed")
    certificate = tmp_path / tls.CERT_FILE  # one pair for SMTP and HTTPS
    assert running.url.startswith("https://")
    trusted = ssl.create_default_context(cafile=str(certificate))
    with httpx.Client(base_url=running.url, verify=trusted) as client:
        assert client.get("/api/v1/info").status_code == 200
        page = client.get("/")
        assert page.status_code == 200 and "mailsandbox" in page.text
        # by name too: the certificate names localhost
        named = running.url.replace("127.0.0.1", "localhost")
        assert client.get(named + "/readyz").status_code == 200
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(running.url + "/readyz")  # the system's trust store does not know it
    with pytest.raises(httpx.HTTPError):
        httpx.get(running.url.replace("https://", "http://") + "/readyz")  # no plain HTTP


def test_a_given_pair_and_a_websocket_over_tls(tmp_path: Path, sandbox_factory: Factory) -> None:
    cert, key = openssl_pair(tmp_path / "pair")
    running = sandbox_factory(http_tls_cert=str(cert), http_tls_key=str(key))
    url = running.url.replace("127.0.0.1", "localhost")
    trusted = ssl.create_default_context(cafile=str(cert))
    assert httpx.get(url + "/api/v1/webui", verify=trusted, timeout=30).status_code == 200
    with connect(url.replace("https", "wss") + "/api/events", ssl=trusted) as socket:
        assert '"Type":"stats"' in socket.recv(timeout=10)
    # the UI's own page posts with its https origin
    same_origin = {"Origin": url, "HX-Request": "true"}
    answer = httpx.post(
        url + "/ui/messages/read-all", headers=same_origin, verify=trusted, timeout=30
    )
    assert answer.status_code == 200


def test_serve_announces_https_and_the_healthcheck_uses_it(tmp_path: Path) -> None:
    db = tmp_path / "mailsandbox.db"
    server = launch_serve(db, "--http-tls", "self-signed")
    url = f"https://127.0.0.1:{server.http_port}"
    try:
        eventually(lambda: "Database" in server.stdout(), timeout=30, what="the banner")
        assert f"Web UI   {url}/" in server.stdout()
        trusted = ssl.create_default_context(cafile=str(tmp_path / tls.CERT_FILE))
        assert httpx.get(url + "/readyz", verify=trusted).status_code == 200
        env = clean_env(
            {
                "MAILSANDBOX_HTTP": f"127.0.0.1:{server.http_port}",
                "MAILSANDBOX_HTTP_TLS": "self-signed",
                "MAILSANDBOX_DB": str(db),
            }
        )
        check = subprocess.run([sys.executable, "-m", "mailsandbox", "healthcheck"],
                               capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
        assert check.returncode == 0, check.stderr
    finally:
        server.stop()


def test_https_flags_that_cannot_work_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    cases = [
        (["--http-tls-cert", str(missing), "--http-tls-key", str(missing)],
         f"mailsandbox serve: TLS certificate {missing}: No such file or directory\n"),
        (["--http-tls", "on"], "mailsandbox serve: --http-tls is off or self-signed, not 'on'\n"),
        (["--http-tls-cert", str(missing)],
         "mailsandbox serve: --http-tls-cert and --http-tls-key go together\n"),
    ]  # fmt: skip
    for flags, stderr in cases:
        result = run_serve("--db", str(tmp_path / "x.db"), "--smtp", "127.0.0.1:0",
                           "--http", "127.0.0.1:0", *flags)  # fmt: skip
        assert (result.returncode, result.stderr, result.stdout) == (2, stderr, "")
