#!/usr/bin/env bash
# Set up .venv with the toolkit and its test/plot extras.
# torch==2.13.0 goes in first: a bare "torch" requirement in a fresh environment
# would pull a multi-GB CUDA build; this pin takes the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,plot,paper,clauses]"
