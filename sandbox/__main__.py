"""``python -m sandbox`` is the ``mailsandbox`` command."""

from sandbox.cli import main

raise SystemExit(main())
