#!/usr/bin/env bash
# Command 1: install, build (or bring up to date) the index of corpus/, open the chat.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
assistant ingest corpus/          # unchanged files are skipped: fast when up to date
exec assistant ui "$@"
