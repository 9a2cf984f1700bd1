#!/usr/bin/env bash
# Install the assistant into ./.venv (offline-capable: PyPI only, no model hub).
# Usage: scripts/install.sh [test]   — "test" adds the test tools, Chromium and CJK fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
# torch first: the CPU build of 2.13.0 lies on this machine's disk; a plain dependency
# resolution would otherwise fetch a multi-GB CUDA build.
python -c "import torch" 2>/dev/null || python -m pip install -q torch==2.13.0 2>&1 | grep -v "is ignored" || true
if [ "${1:-}" = "test" ]; then
  python -m pip install -q -e ".[test]" 2>&1 | grep -v "is ignored" || true
  if ! { [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; }; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
    else
      echo "note: Chromium / fonts-noto-cjk missing and not root: browser tests will skip" >&2
    fi
  fi
else
  python -m pip install -q -e . 2>&1 | grep -v "is ignored" || true
fi
