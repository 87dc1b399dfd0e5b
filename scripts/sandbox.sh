#!/usr/bin/env bash
# Install the connector into .venv and run the sandbox: a local fake Jira and a local fake Port,
# a first sync of a few thousand issues, changes in Jira, an incremental sync, and what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
# The fakes are in this checkout (integration_tests/fakes), not in the installed package.
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" .venv/bin/jira-port sandbox "$@"
