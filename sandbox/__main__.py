"""``python -m mailsandbox`` is the ``mailsandbox`` command."""

from mailsandbox.cli import main

raise SystemExit(main())
