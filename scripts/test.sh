#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, then pytest. Extra arguments go to pytest.
# The tests run in one worker per core (pytest-xdist, `-n auto`): a two-core CI machine
# takes about half the time. ZBD_TEST_WORKERS=0 runs them in this process (for --pdb).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser --network
exec .venv/bin/python -m pytest -n "${ZBD_TEST_WORKERS:-auto}" "$@"
