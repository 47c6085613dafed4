"""The user project under ``project/`` is run only in a subprocess (see test_plugin.py)."""

collect_ignore = ["project"]
