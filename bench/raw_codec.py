"""Raw-message compression (issue 19): ratio and CPU of zlib levels, and what a big message costs.

For each sample set and zlib level: how much smaller the stored bytes are, and the CPU time
(``time.process_time``, best of 5 runs) to compress and to inflate one message. Then a 10 MB
message (a 7.5 MB random attachment, base64, plus text): zlib's two strategies on it (LZ77 and
Huffman coding, Huffman coding only), then as :mod:`mailsandbox.storage.rawcodec` stores it:
its ratio, inflating it whole (what an attachment download does) and streaming it
in 1 MB pieces (the raw source routes), with the peak memory that each allocates
(``tracemalloc``).

    .venv/bin/python bench/raw_codec.py
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import templates
from smtp_ingest import message_body

from mailsandbox.storage import rawcodec

LEVELS = (1, 6)


def best_us(fn: Callable[[], object], count: int) -> float:
    """CPU microseconds per call of ``fn`` (best of 5 runs of ``count`` calls)."""
    runs = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(count):
            fn()
        runs.append((time.process_time() - started) / count * 1e6)
    return min(runs)


def levels(name: str, raws: list[bytes]) -> None:
    total = sum(map(len, raws))
    for level in LEVELS:
        packed = [zlib.compress(raw, level) for raw in raws]
        compress = best_us(lambda: [zlib.compress(r, level) for r in raws], 5) / len(raws)  # noqa: B023
        inflate = best_us(lambda: [zlib.decompress(p) for p in packed], 5) / len(raws)  # noqa: B023
        ratio = total / sum(map(len, packed))
        print(f"{name:<34}{total / len(raws):>8.0f} B  level {level}"
              f"{ratio:>7.2f}x{compress:>10.1f} us{inflate:>10.1f} us")  # fmt: skip


def big_message() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "Export"
    msg.set_content("Here is the export you asked for.\n" * 20_000)
    data = random.Random(10).randbytes(7_500_000)
    msg.add_attachment(data, maintype="application", subtype="zip", filename="export.zip")
    return msg.as_bytes()


def peak_mb(fn: Callable[[], object]) -> tuple[float, float]:
    """(milliseconds, peak MB allocated) of one call of ``fn``."""
    tracemalloc.start()
    started = time.perf_counter()
    fn()
    took = (time.perf_counter() - started) * 1000
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return took, peak


def main() -> int:
    print(f"{'messages':<34}{'size':>10}  level{'ratio':>8}{'compress':>13}{'inflate':>13}")
    levels("bench/smtp_ingest.py (5 KB)", [message_body()])
    levels("bench/scale.py templates (200)", [t.raw for t in templates()])
    corpus = sorted(Path(__file__).resolve().parent.parent.glob("tests/sandbox/corpus/*.eml"))
    levels(f"tests/sandbox/corpus ({len(corpus)} .eml)", [p.read_bytes() for p in corpus])
    print()

    raw = big_message()
    for name, strategy in (
        ("LZ77 + Huffman", zlib.Z_DEFAULT_STRATEGY),
        ("Huffman only", zlib.Z_HUFFMAN_ONLY),
    ):

        def packed(strategy: int = strategy) -> bytes:
            packer = zlib.compressobj(rawcodec.LEVEL, zlib.DEFLATED, zlib.MAX_WBITS, 8, strategy)
            return packer.compress(raw) + packer.flush()

        ms = best_us(packed, 1) / 1000
        print(
            f"{len(raw) / 1e6:.1f} MB message, {name}: {len(raw) / len(packed()):.2f}x, {ms:.0f} ms"
        )
    stored, codec = rawcodec.pack(raw)
    assert codec == rawcodec.DEFLATE and rawcodec.unpack(stored, codec) == raw
    pack_ms, _ = peak_mb(lambda: rawcodec.pack(raw))
    whole_ms, whole_peak = peak_mb(lambda: rawcodec.unpack(stored, codec))

    def stream() -> None:
        unpacker = rawcodec.Unpacker(codec)
        while unpacker.read(lambda offset, size: stored[offset : offset + size], 1024 * 1024):
            pass

    stream_ms, stream_peak = peak_mb(stream)
    print(f"{len(raw) / 1e6:.1f} MB message: stored {len(stored) / 1e6:.1f} MB"
          f" ({len(raw) / len(stored):.2f}x); compress {pack_ms:.0f} ms;"
          f" inflate whole {whole_ms:.0f} ms (peak {whole_peak:.1f} MB allocated);"
          f" streamed in 1 MB pieces {stream_ms:.0f} ms (peak {stream_peak:.1f} MB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
