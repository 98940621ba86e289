#!/usr/bin/env bash
# The main job on the demo ledger: check it, then serve it read-only in Fava.
# Usage: bash scripts/run.sh [LEDGER]   (PORT=5000 by default, loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ledger="${1:-ledger/main.beancount}"
echo "==> 检查账本 $ledger" >&2
.venv/bin/bean-check "$ledger"
echo "==> 以只读方式启动 Fava：http://127.0.0.1:${PORT:-5000}/" >&2
exec .venv/bin/fava --read-only --host 127.0.0.1 --port "${PORT:-5000}" "$ledger"
