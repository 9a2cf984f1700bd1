#!/usr/bin/env bash
# Install the assistant into ./.venv (offline-capable: PyPI only, no model hub).
# Usage: scripts/install.sh [test]   — "test" adds the test tools, Chromium, CJK fonts and OCR.
# Any failing step stops the script with the failing tool's own error (set -e, no filters).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
pip_install() { python -m pip install -q --disable-pip-version-check "$@"; }
pip_install --upgrade pip
# torch first: the CPU build of 2.13.0 lies on this machine's disk; a plain dependency
# resolution would otherwise fetch a multi-GB CUDA build.
python -c "import torch" 2>/dev/null || pip_install torch==2.13.0
if [ "${1:-}" = "test" ]; then
  pip_install -e ".[test]"
  if ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/tesseract ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; }; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk tesseract-ocr tesseract-ocr-chi-sim
    else
      echo "note: Chromium / fonts-noto-cjk missing and not root: browser tests will skip" >&2
    fi
  fi
else
  pip_install -e .
fi
