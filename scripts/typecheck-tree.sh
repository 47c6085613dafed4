#!/usr/bin/env bash
# mypy cannot follow setuptools' editable-install import hook, which maps the folders sandbox/,
# web/ and emulators/ to the one package ``mailsandbox``. Build that package as a tree of
# symlinks in build/typecheck/ (the path pyproject.toml gives mypy) so mypy sees the real names.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/typecheck/mailsandbox
rm -rf build/typecheck
mkdir -p "$tree"
for entry in sandbox/*; do
  case "$(basename "$entry")" in __pycache__) continue ;; esac
  ln -s "../../../$entry" "$tree/"
done
ln -s ../../../web "$tree/web"
ln -s ../../../emulators "$tree/emulators"
