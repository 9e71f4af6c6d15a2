#!/usr/bin/env bash
# Set up the environment and run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
VENV="${EMOFRAME_VENV:-.venv}"
# librosa's numba kernels are compiled into an on-disk cache on first use: compile them once here, in one
# process, so that the parallel test processes never race to write the same cache files
"$VENV/bin/python" -c "
from emoframe_librosa.extractors import LogMel, MFCC, Prosody
for cls in (MFCC, LogMel, Prosody):
    cls().warmup()
" || echo "librosa warm-up failed; the tests will compile on first use" >&2
exec "$VENV/bin/python" -m pytest -n 2 --dist loadfile "$@"
