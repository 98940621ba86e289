#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine, idempotently:
#   - Debian's Chromium (for the browser tests; only with --browser),
#   - a virtual environment in .venv with the project and its Python packages
#     (from pyproject.toml) installed in editable mode.
# Used by scripts/run.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# A Chinese font too, or the pages' screenshots show boxes for every character.
if [ "${1:-}" = "--browser" ] && { ! command -v chromium >/dev/null 2>&1 \
    || [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; }; then
  echo "==> 安装 Debian 的 chromium 与中文字体（浏览器测试用）" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> 创建虚拟环境 .venv" >&2
  python3 -m venv .venv
fi
stamp=.venv/.zhubaodai-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> 安装 Python 依赖（pyproject.toml）" >&2
  .venv/bin/python -m pip install -q --upgrade pip 2>/dev/null || true
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi
