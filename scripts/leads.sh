#!/usr/bin/env bash
# Staff commands for contact requests: list, export CSV, mark handled, retry notifications, purge.
# Usage: scripts/leads.sh --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec .venv/bin/python -m clinic.leads "$@"
