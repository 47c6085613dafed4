"""The baseline of ``bench/smtp_ingest.py``: stock aiosmtpd on ``loop.create_server`` whose
handler discards every message (the ceiling of aiosmtpd on this machine).

A file of its own, importing nothing but asyncio and aiosmtpd, so that its start-up time and
idle memory are those of a bare aiosmtpd server, not of the benchmark's client.

    .venv/bin/python bench/aiosmtpd_sink.py PORT
"""

from __future__ import annotations

import asyncio
import sys

from aiosmtpd.smtp import SMTP


class Discard:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Discard(), enable_SMTPUTF8=True, decode_data=False, loop=loop),
        "127.0.0.1",
        port,
    )
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
