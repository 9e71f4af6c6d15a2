#!/usr/bin/env bash
# Set up the environment and run the main job.
# Until the demo benchmark lands (issues 3-5) the main job lists the installed components.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
VENV="${EMOFRAME_VENV:-.venv}"
exec "$VENV/bin/emoframe" plugins "$@"
