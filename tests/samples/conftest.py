"""The sample project under ``project/`` is run only in a subprocess (see runners.py)."""

collect_ignore = ["project"]
