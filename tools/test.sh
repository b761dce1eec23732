#!/usr/bin/env bash
# Install everything the test suite needs (Debian packages, a venv, the project) and run it.
# Usage: ./tools/test.sh [pytest args...]      (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v adb >/dev/null || need_apt+=(adb)
command -v busybox >/dev/null || need_apt+=(busybox)
command -v mksh >/dev/null || need_apt+=(mksh)
command -v Xvfb >/dev/null || need_apt+=(xvfb)
# Qt's xcb platform libraries (for screenshots under Xvfb); offscreen tests need only libEGL/fontconfig.
for lib in libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 libusb-1.0-0; do
  dpkg -s "$lib" >/dev/null 2>&1 || need_apt+=("$lib")
done
PY=${PYTHON:-python3}
"$PY" -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""
  elif command -v sudo >/dev/null; then SUDO="sudo"
  else echo "tools/test.sh: need root or sudo to install Debian packages: ${need_apt[*]}" >&2; exit 1; fi
  echo "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip "setuptools>=70.1" wheel
.venv/bin/python -m pip install -q -e ".[test]"
# A sample third-party plugin, installed through its own entry points like any user's plugin would be.
if [ -f tests/plugins/sample_plugin/pyproject.toml ]; then
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e tests/plugins/sample_plugin
fi

echo "== import contracts (core stays Qt-free; plugins use only workbench.api)"
.venv/bin/lint-imports
echo "== tests"
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
