#!/usr/bin/env bash
# Set up the environment and run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
VENV="${EMOFRAME_VENV:-.venv}"
exec "$VENV/bin/python" -m pytest -n 2 --dist loadfile "$@"
