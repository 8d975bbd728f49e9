#!/usr/bin/env bash
# Set up StreamScope on a fresh Debian/Ubuntu machine (Python 3.11+), then run it or its tests.
#   scripts/bootstrap.sh run    → install, then open the window on the built-in mock provider
#   scripts/bootstrap.sh test   → install, then lint, check import contracts, run the test suite
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

QT_PACKAGES="libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core"
# A real X display (not needed for offscreen tests) also wants the xcb libraries:
XCB_PACKAGES="libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1"

need=()
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
wanted="$QT_PACKAGES"
[ "$mode" = run ] && wanted="$wanted $XCB_PACKAGES"
for pkg in $wanted; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
  .venv/bin/ruff check .
  .venv/bin/lint-imports
  QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q -p no:cacheprovider
else
  .venv/bin/python -m pip install -q -e .
  exec .venv/bin/streamscope
fi
