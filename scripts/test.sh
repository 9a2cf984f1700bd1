#!/usr/bin/env bash
# Command 2: install the test dependencies and run the whole suite (lint, structure, tests,
# eval gate). Extra arguments go to pytest, e.g. `-m "not slow"` for the unit tier.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check .
python scripts/check_structure.py  # import cycles, modules > 600 and functions > 60 lines
python -m pytest -q -p no:cacheprovider --timeout=900 "$@"
