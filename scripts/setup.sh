#!/usr/bin/env bash
# Installs what is missing and trains the model only when content changed.
# Sourced by run.sh and test.sh; safe to run on its own: `scripts/setup.sh`.
# `scripts/setup.sh --model-only [DIR]` does only the model step (scripts/staff.sh retrain uses it);
# `scripts/setup.sh --content-hash [DIR]` prints the content hash; `--venv-only` only installs.
#
# Python environment: one virtual environment per set of pinned requirements, kept in
#   $CLINIC_CACHE_DIR (default ~/.cache/clinic-faq-assistant) and linked as ./.venv,
#   so fresh clones on the same machine (and CI) reuse it instead of reinstalling.
# Model: trained into models/ and copied to the cache under a hash of data/, domain.yml and
#   config.yml, so an unchanged clone starts from the cached model without training.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export RASA_TELEMETRY_ENABLED=false
CACHE_DIR="${CLINIC_CACHE_DIR:-$HOME/.cache/clinic-faq-assistant}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$CACHE_DIR" var

log() { printf '[setup] %s\n' "$*" >&2; }

# uv installs the pinned closure in about 30 s where pip took minutes; it is itself a PyPI package,
# bootstrapped once into the cache with the machine's pip.
UV_VERSION=0.13.8
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CACHE_DIR/uv-cache}"

ensure_uv() {
  UV="$CACHE_DIR/uv-$UV_VERSION/bin/uv"
  if [ ! -x "$UV" ]; then
    log "installing uv $UV_VERSION (once)"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$CACHE_DIR/uv-$UV_VERSION.partial" \
      "uv==$UV_VERSION" 2> >(grep -v -e "is ignored: it is neither" -e "Running pip as the 'root' user" >&2)
    rm -rf "$CACHE_DIR/uv-$UV_VERSION" && mv "$CACHE_DIR/uv-$UV_VERSION.partial" "$CACHE_DIR/uv-$UV_VERSION"
  fi
}

ensure_venv() {
  local req_hash venv
  req_hash=$( { "$PYTHON" --version 2>&1; cat requirements/runtime.txt requirements/dev.txt; } | sha256sum | cut -c1-16)
  venv="${VENV_DIR:-$CACHE_DIR/venv-$req_hash}"
  if [ ! -f "$venv/.complete" ]; then
    ensure_uv
    log "installing pinned dependencies into $venv (about 30 s, once per requirements change)"
    rm -rf "$venv"
    "$UV" venv --quiet --python "$PYTHON" "$venv"
    # The pins are a full, resolved closure (see requirements/runtime.txt): `sync` installs exactly
    # them without re-resolving, which is also what lets Rasa 3.6 (declared <3.11) install on 3.11.
    "$UV" pip sync --quiet --python "$venv/bin/python" requirements/runtime.txt requirements/dev.txt
    touch "$venv/.complete"
  fi
  ln -sfn "$venv" .venv
  # keep this environment and the previous one (about 3 GB each)
  touch "$venv"
  # (`|| true`: with no other environment, ls and grep find nothing, which is not an error)
  ls -1dt "$CACHE_DIR"/venv-* 2>/dev/null | grep -v -x "$venv" | tail -n +2 | xargs -r rm -rf || true
}

# The hash of everything the model is trained from, in the current folder.
# It covers every file training reads: the content, the config, the requirements and the whole
# clinic package (the NLU components and whatever they import), so no code change can skip training.
content_hash() {
  find -H data domain.yml config.yml requirements clinic -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \) \
       -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16
}

# Trains only when the content changed, in the current folder (the project, or a copy of it given to
# `scripts/setup.sh --model-only DIR`), and points var/current-model at the model to serve.
ensure_model() {
  local content_hash cached model pinned_hash pinned_model
  content_hash=$(content_hash)
  cached="$CACHE_DIR/models/$content_hash.tar.gz"
  mkdir -p models "$CACHE_DIR/models" var
  if [ -f "models/$content_hash.tar.gz" ]; then
    :
  elif [ -f "$cached" ]; then
    log "using cached model $content_hash"
    cp "$cached" "models/$content_hash.tar.gz"
  else
    log "content changed: training model $content_hash (about a minute)"
    .venv/bin/rasa train --fixed-model-name "$content_hash" --out models >var/train.log 2>&1 \
      || { tail -40 var/train.log >&2; log "training failed, full log in var/train.log"; exit 1; }
    cp "models/$content_hash.tar.gz" "$cached.partial" && mv "$cached.partial" "$cached"
    # keep the five newest cached models
    ls -1t "$CACHE_DIR"/models/*.tar.gz | tail -n +6 | xargs -r rm -f
  fi
  model="models/$content_hash.tar.gz"
  # After `scripts/staff.sh rollback` the previous model stays in use, across restarts, until the
  # content changes again (var/rollback: "<content hash> <model>", written by clinic/staff/models.py).
  if [ -f var/rollback ]; then
    read -r pinned_hash pinned_model < var/rollback || true
    if [ "$pinned_hash" = "$content_hash" ] && [ -f "$pinned_model" ]; then
      log "using the rolled-back model $pinned_model (content unchanged since the rollback)"
      model="$pinned_model"
    else
      rm -f var/rollback
    fi
  fi
  # Rasa serves the newest model in models/: make the current one newest.
  touch "$model"
  echo "$model" > var/current-model
}

case "${1:-}" in
  # Used by `scripts/staff.sh` (clinic/staff/models.py), on this project or a copy of it.
  --content-hash) cd "${2:-$ROOT}" && content_hash; exit ;;
  --model-only) cd "${2:-$ROOT}" && ensure_model; exit ;;
  --venv-only) ensure_venv; exit ;;
esac
ensure_venv
ensure_model
