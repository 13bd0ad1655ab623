#!/usr/bin/env bash
# Install the service into .venv and start it on http://0.0.0.0:8080/zstack/v1 with its embedded SQLite.
# Settings come from ZSTICKET_* environment variables (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/zsticket serve "$@"
