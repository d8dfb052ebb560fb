"""Which trained model the assistant uses: retrain when the content changed and load the new model
into the running assistant without a restart; roll back to the previous model with one command.

Files, in the project folder (all git-ignored, under var/):
  var/current-model   the model a (re)start uses; scripts/setup.sh writes it, and so do retrain and rollback
  var/model-history   one line per model put in use, oldest first: "<time> <model> <how>"
  var/rollback        written by rollback: "<content hash> <model>". While the content is unchanged,
                      scripts/setup.sh keeps serving that model, so a restart does not undo the rollback.

Models are loaded with Rasa's HTTP API (`PUT /model`, with the API token). Rasa swaps the model only
once the new one is fully loaded; messages that arrive meanwhile wait and are then answered, none is
refused.
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import List, Optional, TextIO

import requests

from clinic import settings as clinic_settings
from clinic.settings import PROJECT_ROOT

SETUP_SCRIPT = PROJECT_ROOT / "scripts" / "setup.sh"
HISTORY_KEPT = 50
LOAD_TIMEOUT_S = 900


class StaffError(Exception):
    """A problem to tell staff in plain words (no traceback)."""


@dataclass(frozen=True)
class HistoryEntry:
    when: str
    model: str
    how: str

    def line(self) -> str:
        return f"{self.when} {self.model} {self.how}"


class Project:
    """The content and models of one project folder (the real one, or a copy in tests)."""

    def __init__(self, root: Path = PROJECT_ROOT) -> None:
        self.root = Path(root).resolve()

    @property
    def current_model_file(self) -> Path:
        return self.root / "var" / "current-model"

    @property
    def history_file(self) -> Path:
        return self.root / "var" / "model-history"

    @property
    def rollback_file(self) -> Path:
        return self.root / "var" / "rollback"

    def relative(self, model: Path) -> str:
        """How a model is written in var/ files: relative to the project when inside it."""
        model = Path(model)
        absolute = model if model.is_absolute() else self.root / model
        try:
            return str(absolute.relative_to(self.root))
        except ValueError:
            return str(absolute)

    def absolute(self, model: str) -> Path:
        path = Path(model)
        return path if path.is_absolute() else self.root / path

    def model_named(self, file_name: str) -> Optional[str]:
        """The project's model with this file name (what Rasa's /status reports), if it is still there."""
        candidate = self.root / "models" / Path(file_name).name
        return self.relative(candidate) if candidate.is_file() else None

    def current_model(self) -> Optional[str]:
        if not self.current_model_file.is_file():
            return None
        return self.current_model_file.read_text(encoding="utf-8").strip() or None

    def set_current_model(self, model: str) -> None:
        self.current_model_file.parent.mkdir(parents=True, exist_ok=True)
        self.current_model_file.write_text(model + "\n", encoding="utf-8")

    def history(self) -> List[HistoryEntry]:
        if not self.history_file.is_file():
            return []
        entries = []
        for line in self.history_file.read_text(encoding="utf-8").splitlines():
            parts = line.split(maxsplit=2)
            if len(parts) >= 2:
                entries.append(HistoryEntry(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
        return entries

    def write_history(self, entries: List[HistoryEntry]) -> None:
        self.history_file.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(entry.line() + "\n" for entry in entries[-HISTORY_KEPT:])
        temporary = self.history_file.with_suffix(".partial")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(self.history_file)

    def remember(self, model: str, how: str) -> None:
        """Adds the model to the history unless it is already the latest entry."""
        entries = self.history()
        if entries and entries[-1].model == model:
            return
        entries.append(HistoryEntry(datetime.now().isoformat(timespec="seconds"), model, how))
        self.write_history(entries)

    def content_hash(self) -> str:
        result = subprocess.run(
            ["bash", str(SETUP_SCRIPT), "--content-hash", str(self.root)], capture_output=True, text=True
        )
        if result.returncode != 0 or not result.stdout.strip():
            raise StaffError(f"Could not read the content in {self.root}: {result.stderr.strip()[-500:]}")
        return result.stdout.strip()

    def ensure_model(self, out: TextIO) -> str:
        """Trains if the content changed (scripts/setup.sh's model step) and returns the model for it."""
        process = subprocess.Popen(
            ["bash", str(SETUP_SCRIPT), "--model-only", str(self.root)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line.replace("[setup] ", "  "))
            out.flush()
        if process.wait() != 0:
            raise StaffError("Training failed; nothing was changed. The details are in var/train.log.")
        model = self.current_model()
        if not model:
            raise StaffError("Training finished but var/current-model was not written.")
        return model


class Server:
    """The running assistant's Rasa HTTP API (port and token from clinic.yml / the environment)."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None) -> None:
        conf = clinic_settings.load()
        self.url = (url or f"http://{conf['server']['host']}:{conf['server']['rasa_port']}").rstrip("/")
        self.token = token or clinic_settings.auth_token(conf)

    def loaded_model(self) -> Optional[str]:
        """The file name of the model the assistant serves, "" if it has none, None if nothing answers."""
        try:
            response = requests.get(f"{self.url}/status", params={"token": self.token}, timeout=10)
        except requests.RequestException:
            return None
        if response.status_code in (401, 403):
            raise StaffError(f"The assistant at {self.url} refused the API token. Set RASA_AUTH_TOKEN (in the "
                             "environment or .env) to the token the assistant was started with.")
        if response.status_code == 409:  # running without a model
            return ""
        if not response.ok:
            raise StaffError(f"The assistant at {self.url} answered {response.status_code}: {response.text[:200]}")
        return str(response.json().get("model_file") or "")

    def load(self, model: Path) -> float:
        """Loads the model into the running assistant; returns the seconds it took."""
        started = time.monotonic()
        try:
            response = requests.put(
                f"{self.url}/model", params={"token": self.token},
                json={"model_file": str(Path(model).resolve())}, timeout=LOAD_TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise StaffError(f"Could not load the model into the assistant at {self.url}: {error}")
        if response.status_code != 204:
            raise StaffError(f"The assistant could not load {model} ({response.status_code}): {response.text[:300]}; "
                             "it keeps the model it had.")
        loaded = self.loaded_model()
        if loaded != Path(model).name:
            raise StaffError(f"The assistant reports model {loaded!r} after loading {Path(model).name}.")
        return time.monotonic() - started


def model_in_use(project: Project, server: Server) -> Optional[str]:
    """The model the running assistant serves (when it runs and the file is in models/), else the one
    a start would use."""
    loaded = server.loaded_model()
    if loaded:
        return project.model_named(loaded) or project.current_model()
    return project.current_model()


def apply(project: Project, server: Server, model: str, out: TextIO) -> None:
    """Makes `model` the one in use: loaded into the running assistant, and the one a restart uses."""
    loaded = server.loaded_model()
    if loaded is None:
        print(f"The assistant is not running at {server.url}; it will use this model when it starts "
              "(scripts/run.sh).", file=out)
    elif loaded == Path(model).name:
        print("The running assistant already uses this model.", file=out)
    else:
        print("Loading it into the running assistant (no restart; visitors keep chatting)...", file=out, flush=True)
        seconds = server.load(project.absolute(model))
        print(f"Loaded in {seconds:.0f} s: the assistant now answers with it.", file=out)
    project.set_current_model(model)


def retrain(project: Project, server: Server, out: TextIO = sys.stdout) -> str:
    """Trains if the content changed, then puts the model for the current content in use."""
    before = model_in_use(project, server)
    if before:
        project.remember(before, "in use")
    project.rollback_file.unlink(missing_ok=True)  # retrain means: use the current content
    print("Checking whether the content changed (training takes a minute or two if it did)...", file=out, flush=True)
    model = project.ensure_model(out)
    if model == before:
        print(f"The model in use ({model}) already matches the content.", file=out)
    else:
        print(f"Model for the current content: {model}", file=out)
    apply(project, server, model, out)
    project.remember(model, "retrain")
    return model


def rollback(project: Project, server: Server, out: TextIO = sys.stdout) -> str:
    """Goes back to the model used before the current one."""
    current = model_in_use(project, server)
    if current:
        project.remember(current, "in use")
    entries = project.history()
    if len(entries) < 2:
        raise StaffError("There is no earlier model to go back to.")
    previous = entries[-2]
    if not project.absolute(previous.model).is_file():
        raise StaffError(f"The previous model ({previous.model}) is no longer in models/; cannot roll back.")
    print(f"Going back to the model in use before ({previous.model}, from {previous.when.replace('T', ' ')}).", file=out)
    # Keep the previous model across restarts while the content stays as it is now.
    pinned_hash = project.content_hash()
    if project.rollback_file.is_file():  # a second rollback: the content hash is still the first one's
        pinned_hash = project.rollback_file.read_text(encoding="utf-8").split()[0]
    apply(project, server, previous.model, out)
    project.rollback_file.write_text(f"{pinned_hash} {previous.model}\n", encoding="utf-8")
    project.write_history(entries[:-1])
    print("Done. Your content files still contain the change you rolled back from: fix them, run "
          "`scripts/staff.sh check`, then `scripts/staff.sh retrain`. Until the content changes, a restart "
          "keeps this model.", file=out)
    return previous.model


def status(project: Project, server: Server, out: TextIO = sys.stdout) -> None:
    loaded = server.loaded_model()
    current = project.current_model()
    if loaded is None:
        print(f"The assistant is not running at {server.url}.", file=out)
    else:
        print(f"The assistant is running at {server.url} with model {loaded or '(none)'}.", file=out)
    print(f"A start uses: {current or '(no model trained yet: run scripts/setup.sh)'}", file=out)
    content = project.content_hash()
    if project.rollback_file.is_file():
        print("A rollback is in effect: the content files have changes this model does not have. Fix them and "
              "run `scripts/staff.sh retrain` (or run it as they are, to undo the rollback).", file=out)
    elif current and Path(current).name != f"{content}.tar.gz":
        print("The content changed since this model was trained: run `scripts/staff.sh retrain`.", file=out)
    else:
        print("The model matches the content.", file=out)
    entries = project.history()
    if entries:
        print("Models used (newest last):", file=out)
        for entry in entries[-10:]:
            print(f"  {entry.when.replace('T', ' ')}  {entry.model}  ({entry.how})", file=out)
