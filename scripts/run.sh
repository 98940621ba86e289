#!/usr/bin/env bash
# The main job on the demo ledger: check it, then serve it read-only in Fava.
# Usage: bash scripts/run.sh [LEDGER]   (PORT=5000 by default, loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ledger="${1:-ledger/main.beancount}"
echo "==> 检查账本 $ledger（zbd check：错误与警告，按项目和规则分组）" >&2
.venv/bin/zbd check "$ledger"
exec .venv/bin/zbd serve "$ledger" --port "${PORT:-5000}"
