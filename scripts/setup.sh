#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine, idempotently:
#   - Debian's Chromium (for the browser tests; only with --browser),
#   - LibreOffice Calc and poppler-utils (the report's print test; only with --browser),
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

# LibreOffice (headless Calc) and poppler: the report test prints the XLSX report to PDF and
# reads the pages back. Only with --browser (scripts/test.sh), so scripts/run.sh stays quick.
if [ "${1:-}" = "--browser" ] && { ! command -v soffice >/dev/null 2>&1 \
    || ! command -v pdftoppm >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; }; then
  echo "==> 安装 LibreOffice（无界面 Calc）与 poppler-utils（报表打印测试用）" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    --no-install-recommends libreoffice-calc-nogui poppler-utils >/dev/null
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
