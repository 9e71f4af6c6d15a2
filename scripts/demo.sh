#!/usr/bin/env bash
# Set up the environment and run the main job on the built-in synthetic demo corpus.
# Until the benchmark runner lands (issues 4-5), the main job is the single-modality
# baselines: eGeMAPS → SVC (audio) and TF-IDF → SVC (text), speaker-independent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
VENV="${EMOFRAME_VENV:-.venv}"
exec "$VENV/bin/python" benchmarks/baselines.py demo "$@"
