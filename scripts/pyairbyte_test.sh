#!/usr/bin/env bash
# Run the connector through PyAirbyte: install `airbyte` (heavy, ~800 MB) and this project into a
# venv of their own, then run integration_tests/test_pyairbyte.py (a read of both streams into a
# DuckDB cache, then an incremental read). Extra arguments go to pytest.
#
#   bash scripts/pyairbyte_test.sh
#   PYAIRBYTE_VENV=~/.venvs/pyairbyte bash scripts/pyairbyte_test.sh -v
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${PYAIRBYTE_VENV:-/tmp/pyairbyte-venv}

if ! "$VENV/bin/python" -c 'import airbyte, pytest_timeout, requests_mock' 2>/dev/null; then
  echo "installing PyAirbyte into $VENV (a few minutes)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet 'airbyte>=0.71.3,<0.72' pytest pytest-timeout \
    requests-mock
fi
# The project itself, editable, so the test runs this checkout's console script.
"$VENV/bin/python" -m pip install --quiet -e .

# Without offline mode, PyAirbyte looks the connector up in Airbyte's registry first.
AIRBYTE_OFFLINE_MODE=1 "$VENV/bin/python" -m pytest integration_tests/test_pyairbyte.py \
  -p no:cacheprovider "$@"
