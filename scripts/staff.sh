#!/usr/bin/env bash
# Staff commands for the assistant's content: check, retrain (and reload without a restart), rollback,
# status, and the unanswered-questions and quality reports. Usage: scripts/staff.sh --help
# Worked examples: docs/staff-guide.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m clinic.staff "$@"
