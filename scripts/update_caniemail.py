"""Refresh sandbox/checks/caniemail.json from the npm package ``caniemail`` (MIT).

    python scripts/update_caniemail.py            # the latest release
    python scripts/update_caniemail.py 2.0.2      # a given version

Runs ``npm pack`` (the npm registry is the source, through npm itself), checks the file is the
caniemail API format the HTML check reads, and writes it in place. Review the diff, run the
html-check tests, and mention the new ``last_update_date`` in CHANGELOG.md.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "sandbox" / "checks" / "caniemail.json"
MEMBER = "package/data/caniemail.json"


def main(argv: list[str]) -> int:
    version = argv[1] if len(argv) > 1 else "latest"
    npm = shutil.which("npm")
    if npm is None:
        print("npm is required (apt-get install npm)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        packed = subprocess.run(
            [npm, "pack", f"caniemail@{version}", "--silent", "--pack-destination", tmp],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if packed.returncode != 0:
            print(f"npm pack failed: {packed.stderr.strip()}", file=sys.stderr)
            return 2
        tarball = Path(tmp) / packed.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(MEMBER)
            if member is None:
                print(f"{MEMBER} is not in {tarball.name}", file=sys.stderr)
                return 2
            raw = member.read()
    data = json.loads(raw)
    if not {"api_version", "nicenames", "data"} <= data.keys() or not data["data"]:
        print("unexpected caniemail.json format", file=sys.stderr)
        return 2
    TARGET.write_bytes(raw)
    print(f"{TARGET.name}: {len(data['data'])} features, updated {data.get('last_update_date')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
