#!/usr/bin/env bash
# Install the project with its test tools into .venv, then run lint, types and the whole test suite.
# Needs the PostgreSQL server on 127.0.0.1:5432 (trust auth, user postgres) for the PostgreSQL half.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check src tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
