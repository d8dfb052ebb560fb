#!/usr/bin/env bash
# Installs what is missing, trains if content changed, and starts the assistant (Ctrl+C stops it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec .venv/bin/python -m clinic.serve "$@"
