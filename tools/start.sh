#!/usr/bin/env bash
# Install the workbench into ./.venv and start it on this machine with the bundled demo model.
# With a display: the window opens with the demo model loaded. Without one: a CLI profile of the demo model.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import ensurepip' 2>/dev/null; then  # Debian splits venv support out of python3
  if [ "$(id -u)" = 0 ]; then apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null
  else echo "tools/start.sh: python3 cannot create a venv; install it with: sudo apt-get install python3-venv" >&2; exit 1; fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# Install once, then again only when pyproject.toml changes: later starts need no network.
stamp=.venv/.workbench-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  log=$(mktemp)
  if ! .venv/bin/python -m pip install -q -e . >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; exit 1; fi
  rm -f "$log"
  echo "$want" > "$stamp"
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && .venv/bin/workbench gui --help >/dev/null 2>&1; then
  exec .venv/bin/workbench gui --demo "$@"
fi
echo "(no display: profiling the demo model from the command line; run 'workbench gui --demo' on a desktop)"
DEMO=$(.venv/bin/workbench demo-models --path mobilenet_se)
exec .venv/bin/workbench profile "$DEMO" --device local --layers --runs 50 "$@"
