#!/usr/bin/env bash
# The main job on the demo ledger: check it, then serve it read-only in Fava.
# Usage:
#   bash scripts/run.sh [LEDGER]                      Fava on http://127.0.0.1:5000/ (PORT=5000; loopback only)
#   bash scripts/run.sh --reviewers FILE [LEDGER]     for named reviewers over the network:
#       nginx with TLS and a login per reviewer in front of Fava, https://localhost:8443/
#       (PORT=8443, HOST=127.0.0.1; HOST=0.0.0.0 opens it to the network). Installs Debian's
#       nginx, apache2-utils and openssl first (scripts/setup.sh --network; root or sudo);
#       when FILE does not exist yet, asks for the password of a first reviewer named
#       $REVIEWER (default: reviewer). docs/reviewing.md §7.
set -euo pipefail
cd "$(dirname "$0")/.."
reviewers=""
if [ "${1:-}" = "--reviewers" ]; then
  if [ -z "${2:-}" ]; then
    echo "错误：--reviewers 后面要写审阅人名单文件，例如 bash scripts/run.sh --reviewers ~/.local/state/zhubaodai/reviewers.htpasswd" >&2
    exit 2
  fi
  reviewers="$2"
  shift 2
fi
ledger="${1:-ledger/main.beancount}"
if [ -n "$reviewers" ]; then
  bash scripts/setup.sh --network
else
  bash scripts/setup.sh
fi
echo "==> 检查账本 $ledger（zbd check：错误与警告，按项目和规则分组）" >&2
.venv/bin/zbd check "$ledger"
if [ -z "$reviewers" ]; then
  exec .venv/bin/zbd serve "$ledger" --port "${PORT:-5000}"
fi
if [ ! -e "$reviewers" ]; then
  mkdir -p "$(dirname "$reviewers")"
  echo "==> 创建审阅人名单 $reviewers：第一位审阅人 ${REVIEWER:-reviewer}，请设置密码（至少 8 个字符）" >&2
  .venv/bin/zbd reviewers add "$reviewers" "${REVIEWER:-reviewer}"
fi
exec .venv/bin/zbd serve "$ledger" --reviewers "$reviewers" --port "${PORT:-8443}" --host "${HOST:-127.0.0.1}"
