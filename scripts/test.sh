#!/usr/bin/env bash
# Install the connector with its dev tools into .venv, then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/hadolint Dockerfile
# The image and PyAirbyte tests need their own installs: scripts/image_test.sh, pyairbyte_test.sh.
# Tests run on every core (pytest-xdist): most of their time is the real command lines they start.
.venv/bin/python -m pytest -m "not image_tests" -n auto \
  --ignore=integration_tests/test_pyairbyte.py "$@"
