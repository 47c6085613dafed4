"""Pieces every ESP emulator shares (the MIME writer, key files...), so none keeps its own copy."""
