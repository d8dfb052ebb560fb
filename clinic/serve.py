"""Starts the assistant: the action server, the Rasa server (REST, socketio, HTTP API) and the web server
of the chat widget and demo site (clinic/web_server.py), and waits.

`scripts/run.sh` uses it after set-up; the tests and benchmarks use `Assistant` to run a real one.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

from clinic import settings as clinic_settings
from clinic.database import database_url
from clinic.lead_store import LeadStore
from clinic.notify import retry_pending
from clinic.settings import PROJECT_ROOT

LOG_DIR = PROJECT_ROOT / "var" / "logs"
CURRENT_MODEL_FILE = PROJECT_ROOT / "var" / "current-model"
VENV_BIN = Path(sys.executable).parent

QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONWARNINGS": "ignore",
}


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


class Assistant:
    """A running action server and Rasa server, started as child processes."""

    def __init__(
        self,
        rasa_port: Optional[int] = None,
        action_port: Optional[int] = None,
        database: Optional[str] = None,
        model: Optional[Path] = None,
        log_dir: Path = LOG_DIR,
        extra_env: Optional[Dict[str, str]] = None,
        web_port: Optional[int] = None,
    ) -> None:
        conf = clinic_settings.load()
        self.host = conf["server"]["host"]
        self.rasa_port = int(rasa_port or conf["server"]["rasa_port"])
        self.action_port = int(action_port or conf["server"]["action_port"])
        self.database = database or database_url(conf)
        self.cors_origins = conf["server"]["cors_origins"].split()
        self.token = clinic_settings.auth_token(conf)
        self.model = Path(model or CURRENT_MODEL_FILE.read_text().strip())
        self.log_dir = log_dir
        self.extra_env = extra_env or {}
        self.processes: List[subprocess.Popen] = []
        # The widget and demo site are served only when a web port is given (`main` passes WEB_PORT).
        self.web_port = int(web_port) if web_port else None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    def _env(self) -> Dict[str, str]:
        return {
            **os.environ,
            **QUIET_ENV,
            "ACTION_PORT": str(self.action_port),
            "DATABASE_URL": self.database,
            "RASA_AUTH_TOKEN": self.token,
            "PYTHONPATH": str(PROJECT_ROOT),
            **self.extra_env,
        }

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            args, cwd=PROJECT_ROOT, env=self._env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def start_actions(self) -> None:
        self._spawn(
            "actions", [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.action_port)]
        )

    def start_rasa(self) -> None:
        self._spawn(
            "rasa",
            [
                str(VENV_BIN / "python"), "-m", "clinic.rasa_server",  # `rasa run`, token from the environment
                "--model", str(self.model),
                "--interface", self.host,
                "--port", str(self.rasa_port),
                "--enable-api",
                "--credentials", "credentials.yml",
                "--endpoints", "endpoints.yml",
                "--cors", *self.cors_origins,
            ],
        )

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                str(VENV_BIN / "python"), "-m", "clinic.web_server",
                "--host", self.host, "--port", str(self.web_port), "--assistant-url", self.url,
            ],
        )

    def start(self, timeout: float = 180) -> "Assistant":
        for port in (self.rasa_port, self.action_port, self.web_port):
            if port and port_in_use(self.host, port):
                raise RuntimeError(f"port {port} is already in use: is the assistant already running?")
        self.start_actions()
        self.start_rasa()
        if self.web_port:
            self.start_web()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        """Returns once both servers answer and the model is loaded; raises if a server died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [p for p in self.processes if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a server exited during start-up; see {self.log_dir}")
            if self._ready():
                return
            time.sleep(0.5)
        raise TimeoutError(f"the assistant was not ready within {timeout:.0f} s; see {self.log_dir}")

    def _ready(self) -> bool:
        try:
            actions = requests.get(f"{self.action_url}/health", timeout=2)
            status = requests.get(f"{self.url}/status", params={"token": self.token}, timeout=2)
            web_ok = not self.web_port or requests.get(f"{self.web_url}/widget/clinic-chat.js", timeout=2).ok
            return actions.ok and web_ok and status.ok and bool(status.json().get("model_file"))
        except (requests.RequestException, ValueError):
            return False

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> "Assistant":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def retry_notifications(database: str) -> None:
    """Staff notifications that failed are retried while the assistant runs; leads are never lost."""
    try:
        outcomes = retry_pending(LeadStore(database))
    except Exception as error:  # noqa: BLE001 - a database hiccup must not stop the assistant
        print(f"Retrying staff notifications failed ({type(error).__name__}); will try again.", file=sys.stderr)
        return
    if outcomes:
        print(f"Retried staff notifications: {outcomes}", flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model archive (default: the one scripts/setup.sh trained)")
    args = parser.parse_args(argv)
    assistant = Assistant(model=args.model, web_port=int(clinic_settings.load()["server"]["web_port"] or 0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        started = time.monotonic()
        assistant.start()
        print(f"The assistant is ready ({time.monotonic() - started:.0f} s):")
        print(f"  REST:    POST {assistant.url}/webhooks/rest/webhook")
        print(f"  socketio {assistant.url}/socket.io")
        print(f"  actions: {assistant.action_url}/webhook")
        if assistant.web_port:
            print(f"  website: {assistant.web_url}/demo/ (chat widget: {assistant.web_url}/widget/clinic-chat.js)")
            if assistant.web_url not in assistant.cors_origins:
                print(f"  note:    {assistant.web_url} is not in CORS_ORIGINS, so the demo's widget cannot reach the assistant")
        print(f"  logs:    {assistant.log_dir}/")
        print("Press Ctrl+C to stop.", flush=True)
        retry_every = 60 * float(clinic_settings.load()["notify"]["retry_minutes"] or 5)
        next_retry = time.monotonic() + retry_every
        while all(p.poll() is None for p in assistant.processes):
            time.sleep(1)
            if time.monotonic() >= next_retry:
                retry_notifications(assistant.database)
                next_retry = time.monotonic() + retry_every
        print(f"A server stopped unexpectedly; see {assistant.log_dir}/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        assistant.stop()


if __name__ == "__main__":
    sys.exit(main())
