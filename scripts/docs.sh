#!/usr/bin/env bash
# Build the documentation site (mkdocs.yml, Material, API reference from the docstrings) into site/,
# strictly: a broken link, a page missing from the nav or a reference that does not resolve fails the build.
# `bash scripts/docs.sh serve` previews it at http://127.0.0.1:8000 instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
VENV="${EMOFRAME_VENV:-.venv}"
export NO_MKDOCS_2_WARNING=1
if [ "${1:-}" = "serve" ]; then
  exec "$VENV/bin/mkdocs" serve
fi
exec "$VENV/bin/mkdocs" build --strict
