#!/usr/bin/env bash
# Installs what is missing, trains if content changed, and runs the whole test suite.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k content`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
export RASA_TELEMETRY_ENABLED=false
exec .venv/bin/python -m pytest "$@"
