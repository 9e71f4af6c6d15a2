#!/usr/bin/env bash
# Create ./.venv (or $EMOFRAME_VENV) and install emoframe with every first-party plugin, editable.
# Re-running is cheap: the install is skipped while the requirement files are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${EMOFRAME_VENV:-.venv}"
REQ="${1:-requirements-dev.txt}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.emoframe-installed"
shopt -s nullglob
digest=$(cat requirements*.txt pyproject.toml plugins/*/pyproject.toml examples/plugins/*/pyproject.toml | sha256sum | cut -c1-16)-$REQ
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  started=$(date +%s)
  echo "setting up $VENV: installing emoframe, its plugins and their dependencies from $REQ (one-off; a few minutes)" >&2
  # setuptools warns about editable installs once per package, in a dozen lines each: not news to a user
  export PYTHONWARNINGS=ignore
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -m pip install --quiet -r "$REQ" 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -c "import emoframe" || { echo "setup failed: emoframe does not import" >&2; exit 1; }
  echo "$digest" > "$stamp"
  echo "set up $VENV in $(( $(date +%s) - started )) s" >&2
fi
