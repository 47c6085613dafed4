"""ESP send-API benchmark: the sandbox's emulated send endpoint against a bare FastAPI endpoint
that answers without doing any work, in the same run.

Both servers run in their own process under uvicorn with the same settings (the sandbox as
``python -m mailsandbox serve``). A small asyncio HTTP/1.1 client (keep-alive, no parsing beyond
the status line and Content-Length, so the client costs little) sends the same request over
8 connections and prints requests/s for both and the sandbox/bare ratio, and each server
process's CPU time per request (from ``/proc``; less sensitive than throughput to other load on
the machine). Every 2xx the sandbox gave must be a stored message at the end.

Each target is one function returning a :class:`Target` (SendGrid's is ``sendgrid_target``);
add another ESP by writing its function and listing it in ``TARGETS``. At the end, every other
target's stored send is compared with SendGrid's measured in the same run.

    .venv/bin/python bench/api_send.py [--requests 2000] [--rounds 2] [--target sendgrid]

``--versus-smtp`` measures instead what issue 19 compares: in one run, SMTP ingest of the 5 KB
message (``bench/smtp_ingest.py``'s client) and each provider's stored send carrying the same
text (SendGrid, Mailgun, SES v2, Postmark and Resend unless ``--target`` says), 8 connections,
a fresh sandbox per cell, cells alternating, medians of ``--rounds``; and prints each
provider's rate / the SMTP rate:

    .venv/bin/python bench/api_send.py --versus-smtp [--requests 2000] [--rounds 3]

``--against COMMIT`` (with ``--versus-smtp``) measures every cell also with the sandbox of
``COMMIT`` (``bench/startup.py``'s ``package_tree``, first on ``PYTHONPATH``), the two
alternating cell by cell, and prints both tables: before and after in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import smtp_ingest
from smtp_ingest import cpu_seconds, free_port, start_sandbox
from startup import package_tree, working_tree

CONNECTIONS = 8


@dataclass
class Target:
    name: str
    path: str
    content_type: str
    body: bytes
    headers: dict[str, str]
    bare_status: int  # what the bare endpoint answers (the real service's success status)
    # optionally, a request the emulator validates but does not store (SendGrid's sandbox
    # mode): measures the ESP layer without the shared ingest path
    dry_body: bytes | None = None
    dry_status: int = 200

    def request(self, body: bytes | None = None) -> bytes:
        body = self.body if body is None else body
        lines = [
            f"POST {self.path} HTTP/1.1",
            "Host: 127.0.0.1",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sendgrid_target() -> Target:
    """``POST /v3/mail/send``: one personalization, a 5 KB text body."""
    line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
    body = {
        "personalizations": [{"to": [{"email": "inbox@example.com", "name": "Inbox"}]}],
        "from": {"email": "bench@example.com", "name": "Bench"},
        "subject": "benchmark message",
        "content": [{"type": "text/plain", "value": line * (5 * 1024 // len(line))}],
        "categories": ["bench"],
    }
    dry = {**body, "mail_settings": {"sandbox_mode": {"enable": True}}}
    return Target(
        name="sendgrid",
        path="/v3/mail/send",
        content_type="application/json",
        body=json.dumps(body).encode(),
        headers={"Authorization": "Bearer SG.bench", "Accept": "application/json"},
        bare_status=202,
        dry_body=json.dumps(dry).encode(),
        dry_status=200,
    )


def mailgun_target() -> Target:
    """``POST /v3/{domain}/messages``: an urlencoded form send, a 5 KB text body, one tag."""
    line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
    form = {
        "from": "Bench <bench@mg.example.com>",
        "to": "Inbox <inbox@example.com>",
        "subject": "benchmark message",
        "text": line * (5 * 1024 // len(line)),
        "o:tag": "bench",
    }
    return Target(
        name="mailgun",
        path="/v3/mg.example.com/messages",
        content_type="application/x-www-form-urlencoded",
        body=urlencode(form).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(b"api:key-bench").decode()},
        bare_status=200,
    )


# A SigV4 header as the AWS SDKs send it (the sandbox reads the scope, never the signature).
AWS_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIABENCH/20260101/us-east-1/ses/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64
)


def ses_target() -> Target:
    """SES v2 ``SendEmail`` (``POST /v2/email/outbound-emails``): Simple content, a 5 KB text
    body, one tag (what boto3 ``sesv2`` sends)."""
    line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
    body = {
        "FromEmailAddress": "Bench <bench@example.com>",
        "Destination": {"ToAddresses": ["Inbox <inbox@example.com>"]},
        "Content": {
            "Simple": {
                "Subject": {"Data": "benchmark message"},
                "Body": {"Text": {"Data": line * (5 * 1024 // len(line))}},
            }
        },
        "EmailTags": [{"Name": "kind", "Value": "bench"}],
    }
    return Target(
        name="ses",
        path="/v2/email/outbound-emails",
        content_type="application/json",
        body=json.dumps(body).encode(),
        headers={"Authorization": AWS_AUTH, "X-Amz-Date": "20260101T000000Z"},
        bare_status=200,
    )


def ses_raw_target() -> Target:
    """SES v1 ``SendRawEmail`` (``POST /``, the Query protocol django-ses uses): a 5 KB text
    message, base64 in the form body."""
    line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    raw = (
        "From: Bench <bench@example.com>\r\nTo: Inbox <inbox@example.com>\r\n"
        "Subject: benchmark message\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
        + line
        * (5 * 1024 // len(line))
    )
    form = {
        "Action": "SendRawEmail",
        "Version": "2010-12-01",
        "RawMessage.Data": base64.b64encode(raw.encode()).decode(),
    }
    return Target(
        name="ses-raw",
        path="/",
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        body=urlencode(form).encode(),
        headers={"Authorization": AWS_AUTH, "X-Amz-Date": "20260101T000000Z"},
        bare_status=200,
    )


def postmark_target() -> Target:
    """Postmark ``POST /email``: a 5 KB text body, a Tag and Metadata (what postmarker and
    django-anymail send)."""
    line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
    body = {
        "From": "Bench <bench@example.com>",
        "To": "Inbox <inbox@example.com>",
        "Subject": "benchmark message",
        "TextBody": line * (5 * 1024 // len(line)),
        "Tag": "bench",
        "Metadata": {"kind": "bench"},
    }
    return Target(
        name="postmark",
        path="/email",
        content_type="application/json",
        body=json.dumps(body).encode(),
        headers={"X-Postmark-Server-Token": "bench", "Accept": "application/json"},
        bare_status=200,
    )


def resend_target() -> Target:
    """Resend ``POST /emails``: a 5 KB text body and one tag (what the resend SDKs send)."""
    line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
    body = {
        "from": "Bench <bench@example.com>",
        "to": ["Inbox <inbox@example.com>"],
        "subject": "benchmark message",
        "text": line * (5 * 1024 // len(line)),
        "tags": [{"name": "kind", "value": "bench"}],
    }
    return Target(
        name="resend",
        path="/emails",
        content_type="application/json",
        body=json.dumps(body).encode(),
        headers={"Authorization": "Bearer re_bench"},
        bare_status=200,
    )


TARGETS: dict[str, Callable[[], Target]] = {
    "sendgrid": sendgrid_target,
    "mailgun": mailgun_target,
    "ses": ses_target,
    "ses-raw": ses_raw_target,
    "postmark": postmark_target,
    "resend": resend_target,
}


# --- the client --------------------------------------------------------------------------
async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for header in head.split(b"\r\n")[1:]:
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _connection(port: int, request: bytes, count: int, statuses: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(count):
        writer.write(request)
        statuses.append(await _read_response(reader))
    writer.close()
    await writer.wait_closed()


async def run_load(port: int, request: bytes, total: int) -> tuple[float, list[int]]:
    """Requests per second over ``CONNECTIONS`` keep-alive connections, and the statuses."""
    statuses: list[int] = []
    per_conn = total // CONNECTIONS
    start = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, request, per_conn, statuses) for _ in range(CONNECTIONS))
    )
    return len(statuses) / (time.perf_counter() - start), statuses


def measure(pid: int, port: int, request: bytes, total: int) -> tuple[float, float, list[int]]:
    """(requests/s, server CPU µs per request, statuses) of one load run."""
    before = cpu_seconds(pid)
    rate, statuses = asyncio.run(run_load(port, request, total))
    return rate, (cpu_seconds(pid) - before) / max(len(statuses), 1) * 1e6, statuses


# --- the two servers ---------------------------------------------------------------------
def run_bare(port: int, status: int) -> None:
    """A FastAPI app whose every POST answers ``status`` with an empty body, doing nothing."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()

    @app.post("/{path:path}")
    async def bare(path: str) -> Response:
        return Response(status_code=status)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def stored_count(http_port: int) -> int:
    response = httpx.get(f"http://127.0.0.1:{http_port}/api/v1/messages?limit=1", timeout=60)
    return int(response.json()["total"])


def bench(target: Target, requests: int, rounds: int) -> tuple[float, float]:
    """Measure one target; returns the sandbox's best requests/s and least CPU µs/request."""
    workdir = Path(tempfile.mkdtemp(prefix="mailsandbox-bench-"))
    bare_port, http_port = free_port(), free_port()
    bare = subprocess.Popen(
        [sys.executable, __file__, "--bare", str(bare_port), str(target.bare_status)]
    )
    sandbox = start_sandbox(workdir / "bench.db", free_port(), http_port)
    request = target.request()
    accepted = 0
    try:
        wait_http(f"http://127.0.0.1:{bare_port}/", bare)
        for port in (bare_port, http_port):  # warm up both
            _, statuses = asyncio.run(run_load(port, request, 200))
            accepted += sum(1 for s in statuses if 200 <= s < 300) if port == http_port else 0
        best = {"bare": 0.0, "sandbox": 0.0}
        cpu = {"bare": float("inf"), "sandbox": float("inf")}
        pids = {"bare": bare.pid, "sandbox": sandbox.pid, "dry": sandbox.pid}
        for _ in range(rounds):
            for name, port in (("bare", bare_port), ("sandbox", http_port)):
                rate, cpu_us, statuses = measure(pids[name], port, request, requests)
                if name == "sandbox":
                    if set(statuses) != {target.bare_status}:
                        raise RuntimeError(f"unexpected statuses: {sorted(set(statuses))}")
                    accepted += len(statuses)
                best[name] = max(best[name], rate)
                cpu[name] = min(cpu[name], cpu_us)
            if target.dry_body is not None:
                dry_request = target.request(target.dry_body)
                rate, cpu_us, statuses = measure(pids["dry"], http_port, dry_request, requests)
                if set(statuses) != {target.dry_status}:
                    raise RuntimeError(f"unexpected dry-run statuses: {sorted(set(statuses))}")
                best["dry"] = max(best.get("dry", 0.0), rate)
                cpu["dry"] = min(cpu.get("dry", float("inf")), cpu_us)
        stored = stored_count(http_port)
        print(
            f"{target.name} {target.path} ({len(target.body)} B, {CONNECTIONS} connections): "
            f"bare FastAPI {best['bare']:.0f} req/s, sandbox {best['sandbox']:.0f} req/s, "
            f"ratio {best['sandbox'] / best['bare']:.0%}; server CPU per request: bare "
            f"{cpu['bare']:.0f} µs, sandbox {cpu['sandbox']:.0f} µs; stored {stored}/{accepted}",
            flush=True,
        )
        if "dry" in best:
            print(
                f"  validate-only (nothing stored): {best['dry']:.0f} req/s, "
                f"ratio {best['dry'] / best['bare']:.0%}, {cpu['dry']:.0f} µs CPU per request",
                flush=True,
            )
        if stored != accepted:
            raise RuntimeError("accepted requests missing from the store")
        return best["sandbox"], cpu["sandbox"]
    finally:
        for proc in (bare, sandbox):
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


# --- issue 19: each provider's stored send against SMTP ingest, in one run ----------------
VERSUS_SMTP = ["sendgrid", "mailgun", "ses", "postmark", "resend"]


def versus_cell(
    name: str, requests: int, warmup: int, pythonpath: Path | None = None
) -> tuple[float, float]:
    """One fresh sandbox (of ``pythonpath``'s tree if given), warmed up, then ``requests``
    sends of ``name`` ("smtp": SMTP ingest with ``bench/smtp_ingest.py``'s client) over 8
    connections: (sends/s, CPU µs per send). Every acknowledged send must be stored."""
    workdir = Path(tempfile.mkdtemp(prefix="mailsandbox-bench-"))
    smtp_port, http_port = free_port(), free_port()
    sandbox = start_sandbox(workdir / "bench.db", smtp_port, http_port, pythonpath=pythonpath)
    try:
        if name == "smtp":
            target = smtp_ingest.Target("smtp", [smtp_port], [sandbox.pid], [])
            asyncio.run(smtp_ingest.run_load(target, CONNECTIONS, warmup))
            result = asyncio.run(smtp_ingest.run_load(target, CONNECTIONS, requests))
            rate, cpu, accepted = result.rate, result.cpu_us, len(target.acks)
        else:
            esp = TARGETS[name]()
            request = esp.request()
            _, warm = asyncio.run(run_load(http_port, request, warmup))
            rate, cpu, statuses = measure(sandbox.pid, http_port, request, requests)
            if set(warm + statuses) != {esp.bare_status}:
                raise RuntimeError(f"{name}: unexpected statuses {sorted(set(statuses))}")
            accepted = len(warm) + len(statuses)
        stored = stored_count(http_port)
        if stored != accepted:
            raise RuntimeError(f"{name}: {accepted} acknowledged, {stored} stored")
        return rate, cpu
    finally:
        smtp_ingest.kill_all([sandbox])
        shutil.rmtree(workdir, ignore_errors=True)


def versus_smtp(names: list[str], requests: int, rounds: int, against: str | None = None) -> int:
    """SMTP ingest of the 5 KB message and each provider's send API carrying the same text, 8
    connections, a fresh sandbox per cell, cells alternating (the order rotates every round);
    medians of ``rounds``, and each provider's rate / the SMTP rate (issue 19: >= 0.8).
    ``against``: each cell also with that commit's sandbox, right after this tree's."""
    cases = ["smtp", *names]
    trees: dict[str, Path | None] = {"this tree": None}
    with tempfile.TemporaryDirectory() as tmp:
        if against:  # both sides from PYTHONPATH (see startup.working_tree)
            trees = {
                f"at {against}": package_tree(against, Path(tmp) / "then"),
                "this tree": working_tree(Path(tmp) / "now"),
            }
        figures = {(tree, case): [] for tree in trees for case in cases}
        print(f"load average at the start: {smtp_ingest.load_average()}", flush=True)
        for round_no in range(rounds):
            turn = round_no % len(cases)
            for case in cases[turn:] + cases[:turn]:
                for tree, path in trees.items():
                    rate, cpu = versus_cell(case, requests, 200, path)
                    figures[tree, case].append((rate, cpu))
                    print(
                        f"round {round_no + 1}, {tree}, {case}: {rate:.0f}/s, {cpu:.0f} µs CPU",
                        flush=True,
                    )
    print(f"load average at the end: {smtp_ingest.load_average()}")
    for tree in trees:
        print(f"\n{tree}: medians of {rounds} (min-max of the rate / SMTP ratio per round)")
        print(f"{'send':<10}{'per s':>8}{'CPU µs':>8}{'rate / SMTP':>13}{'CPU / SMTP':>12}  range")
        smtp = figures[tree, "smtp"]
        smtp_rate = statistics.median(rate for rate, _ in smtp)
        smtp_cpu = statistics.median(cpu for _, cpu in smtp)
        for case in cases:
            rate = statistics.median(rate for rate, _ in figures[tree, case])
            cpu = statistics.median(cpu for _, cpu in figures[tree, case])
            ratios = [r / s for (r, _), (s, _) in zip(figures[tree, case], smtp, strict=True)]
            print(
                f"{case:<10}{rate:>8.0f}{cpu:>8.0f}{rate / smtp_rate:>12.2f}x"
                f"{cpu / smtp_cpu:>11.2f}x  {min(ratios):.2f}-{max(ratios):.2f}"
            )
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--bare"]:
        run_bare(int(sys.argv[2]), int(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measure N times, keep the best")
    parser.add_argument("--target", choices=sorted(TARGETS), action="append")
    parser.add_argument(
        "--versus-smtp",
        action="store_true",
        help="each target's stored send against SMTP ingest (fresh sandbox per cell, medians)",
    )
    parser.add_argument(
        "--against", metavar="COMMIT", help="with --versus-smtp: also measure COMMIT's sandbox"
    )
    args = parser.parse_args()
    if args.versus_smtp:
        return versus_smtp(args.target or VERSUS_SMTP, args.requests, args.rounds, args.against)
    figures = {
        name: bench(TARGETS[name](), args.requests, args.rounds)
        for name in args.target or sorted(TARGETS)
    }
    if "sendgrid" in figures:  # each stored send against SendGrid's, measured in this run
        base_rate, base_cpu = figures["sendgrid"]
        for name, (rate, cpu) in figures.items():
            if name != "sendgrid":
                print(
                    f"{name} vs sendgrid: {rate / base_rate:.0%} of its requests/s,"
                    f" {cpu / base_cpu:.0%} of its CPU per request",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
