#!/usr/bin/env bash
# Command 2: install the test dependencies and run the whole suite (lint + tests + eval gate).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check .
python -m pytest -q -p no:cacheprovider --timeout=900 "$@"
