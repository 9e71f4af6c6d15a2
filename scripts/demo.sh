#!/usr/bin/env bash
# Set up the environment and run the main job: `emoframe demo`, the default benchmark on the
# built-in synthetic demo corpus (generated offline on first use). Extra arguments go to it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
VENV="${EMOFRAME_VENV:-.venv}"
exec "$VENV/bin/emoframe" demo "$@"
