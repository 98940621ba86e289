#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser --network
exec .venv/bin/python -m pytest "$@"
