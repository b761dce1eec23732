#!/usr/bin/env bash
# Install the workbench into ./.venv and start it on this machine with the bundled demo model.
# With a display: the window opens with the demo model loaded. Without one: a CLI profile of the demo model.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && .venv/bin/workbench gui --help >/dev/null 2>&1; then
  exec .venv/bin/workbench gui --demo "$@"
fi
echo "(no display: profiling the demo model from the command line; run 'workbench gui --demo' on a desktop)"
DEMO=$(.venv/bin/workbench demo-models --path mobilenet_se)
exec .venv/bin/workbench profile "$DEMO" --device local --layers --runs 50 "$@"
