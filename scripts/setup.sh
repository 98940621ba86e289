#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine, idempotently:
#   - Debian's Chromium and a Chinese font (for the browser tests; only with --browser),
#   - LibreOffice Calc and poppler-utils (the report's print test; only with --browser),
#   - Debian's nginx, apache2-utils (htpasswd) and openssl, for serving the pool to named
#     reviewers over the network (`zbd serve --reviewers`; only with --network),
#   - a virtual environment in .venv with the project and its Python packages
#     (from pyproject.toml) installed in editable mode.
# Usage: bash scripts/setup.sh [--browser] [--network]
# Used by scripts/run.sh and scripts/test.sh; safe to run again (packages already there
# are not installed again; apt-get update runs once, only when something is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0; network=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --network) network=1 ;;
    *) echo "错误：未知的选项 $arg（可用：--browser --network）" >&2; exit 2 ;;
  esac
done

packages=()       # with their recommended packages
lean=()           # without (LibreOffice's recommends are large)
if [ "$browser" = 1 ]; then
  # A Chinese font too, or the pages' screenshots show boxes for every character.
  command -v chromium >/dev/null 2>&1 || packages+=(chromium)
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || packages+=(fonts-wqy-microhei)
  # LibreOffice (headless Calc) and poppler: the report test prints the XLSX report to PDF
  # and reads the pages back. Only with --browser (scripts/test.sh), so scripts/run.sh stays quick.
  command -v soffice >/dev/null 2>&1 || lean+=(libreoffice-calc-nogui)
  { command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; } || lean+=(poppler-utils)
fi
if [ "$network" = 1 ]; then
  [ -x /usr/sbin/nginx ] || packages+=(nginx)
  [ -x /usr/bin/htpasswd ] || packages+=(apache2-utils)
  [ -x /usr/bin/openssl ] || packages+=(openssl)
fi
if [ "${#packages[@]}" -gt 0 ] || [ "${#lean[@]}" -gt 0 ]; then
  echo "==> 安装 Debian 软件包：${packages[*]} ${lean[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  # Installing nginx must not start Debian's default site (port 80 on every address):
  # without a policy already in place (containers usually have one), forbid starting
  # services for the duration of the install.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# zhubaodai setup.sh: no service starts during its apt-get install\nexit 101\n' \
      | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq >/dev/null
  if [ "${#packages[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${packages[@]}" >/dev/null
  fi
  if [ "${#lean[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
      --no-install-recommends "${lean[@]}" >/dev/null
  fi
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
