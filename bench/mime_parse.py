"""MIME parse micro-benchmark: ``mailsandbox.mime.parse_message`` against the email package.

For four messages (the 5 KB text message of ``bench/smtp_ingest.py``, one with non-ASCII
encoded-word headers, a multipart/alternative text + HTML, a multipart/mixed with a small
attachment) it prints the CPU time per message of:

- ``stdlib``: ``email.message_from_bytes(raw, policy=compat32)``, the bare parse, no fields;
- ``reference``: ``mailsandbox.mime._parse_with_stdlib``, the same fields as ``parse_message`` the
  plain way (the email package's parser and ``Message`` methods), if this version has it;
- ``REV`` (with ``--against REV``): ``parse_message`` as it was at that git revision;
- ``parse_message``: the function ingest calls.

All are measured in the same run, alternately, best of several rounds (the machine is shared,
so the minimum is the figure least disturbed by other processes).

    .venv/bin/python bench/mime_parse.py [--number 2000] [--rounds 7] [--against HEAD]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, compat32
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smtp_ingest import message_body

from mailsandbox import mime


def text_message(n: int) -> bytes:
    return message_body().replace(b"%d", str(n).encode(), 1)


def encoded_words_message(n: int) -> bytes:
    return (
        b"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>\r\n"
        b"To: =?iso-8859-1?q?Ren=E9_Lef=E8vre?= <rene@example.fr>,\r\n"
        b" =?utf-8?b?5bGx55Sw5aSq6YOO?= <taro@example.jp>\r\n"
        b"Cc: =?utf-8?q?Zo=C3=AB?= <zoe@example.com>\r\n"
        + b"Subject: =?utf-8?b?SWhyIEJlc3TDpHRpZ3VuZ3Njb2RlOiA0ODIxOTM=?= #%d\r\n"
        % n
        + b"Date: Thu, 26 Nov 2026 06:00:00 +0000\r\n"
        b"Message-ID: <encoded.1@example.de>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"Ihr Best=C3=A4tigungscode lautet 482193. Er ist 10 Minuten g=C3=BCltig.\r\n"
    )


def _common_headers(msg: EmailMessage, subject: str) -> None:
    msg["From"] = "Shop <shop@example.com>"
    msg["To"] = "Customer <customer@example.org>"
    msg["Subject"] = subject
    msg["Date"] = "Thu, 26 Nov 2026 06:00:00 +0000"
    msg["Message-ID"] = f"<{subject.replace(' ', '.')}@example.com>"


def alternative_message(n: int) -> bytes:
    msg = EmailMessage()
    _common_headers(msg, f"Your order {n}")
    msg.set_content("Thanks for your order.\n\nOrder 1234: 2 items, 59.90 EUR.\n" * 5)
    html = "<p>Thanks for your <b>order</b>.</p><p>Order 1234: 2 items, 59.90 EUR.</p>" * 5
    msg.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
    msg.set_boundary("==alt-boundary==")
    return msg.as_bytes(policy=SMTP)


def mixed_message(n: int) -> bytes:
    msg = EmailMessage()
    _common_headers(msg, f"Your invoice {n}")
    msg.set_content("Please find your invoice attached.\n")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 8
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice-1234.pdf")
    msg.set_boundary("==mixed-boundary==")
    return msg.as_bytes(policy=SMTP)


# Each message is made ``--number`` times with a distinct subject, as in a real stream (and in
# bench/smtp_ingest.py): caches keyed by header values must earn their hits on what repeats.
CASES: dict[str, Callable[[int], bytes]] = {
    "5 KB text/plain": text_message,
    "encoded-word headers": encoded_words_message,
    "multipart/alternative": alternative_message,
    "multipart/mixed + attachment": mixed_message,
}


def per_message_us(func: Callable[[bytes], object], raws: list[bytes]) -> float:
    start = time.process_time()
    for raw in raws:
        func(raw)
    return (time.process_time() - start) / len(raws) * 1e6


def package_at(revision: str) -> ModuleType:
    """``mailsandbox.mime`` as it was at a git revision, imported under another name.

    Its files are read with ``git show`` (nothing in the work tree changes), written to a
    temporary directory with their ``mailsandbox.mime`` imports renamed, and imported from there.
    """
    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", revision, "sandbox/mime/"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    name = "_mime_at_" + "".join(c if c.isalnum() else "_" for c in revision)
    target = Path(tempfile.mkdtemp(prefix="mime_parse_")) / name
    target.mkdir()
    for path in listed:
        if path.endswith(".py"):
            source = subprocess.run(
                ["git", "show", f"{revision}:{path}"],
                cwd=root, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            (target / Path(path).name).write_text(source.replace("mailsandbox.mime", name))
    sys.path.insert(0, str(target.parent))
    return importlib.import_module(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="messages (parses) per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; the best one counts")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also time parse_message as it was at this git revision (e.g. HEAD)",
    )
    args = parser.parse_args()

    contenders: dict[str, Callable[[bytes], object]] = {
        "stdlib": lambda raw: message_from_bytes(raw, policy=compat32)
    }
    reference = getattr(mime, "_parse_with_stdlib", None)
    if reference is not None:
        contenders["reference"] = reference
    if args.against:
        contenders[args.against] = package_at(args.against).parse_message
    contenders["parse_message"] = mime.parse_message

    print(f"mailsandbox.mime from {Path(mime.__file__).parent}")
    print(f"{'case':30} {'bytes':>6}" + "".join(f" {name + ' µs':>17}" for name in contenders))
    for case, make in CASES.items():
        raws = [make(n) for n in range(args.number)]
        best = dict.fromkeys(contenders, float("inf"))
        for _ in range(args.rounds):
            for name, func in contenders.items():  # alternately, so load spikes hit all alike
                best[name] = min(best[name], per_message_us(func, raws))
        figures = "".join(f" {best[name]:17.1f}" for name in contenders)
        print(f"{case:30} {len(raws[0]):6}{figures}")


if __name__ == "__main__":
    main()
