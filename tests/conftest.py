"""Shared fixtures: a real assistant (action server + Rasa server) on test ports with its own database."""
import os
import re
import subprocess
from contextlib import contextmanager
from typing import Dict, Iterator, List
from urllib.parse import quote

import pytest
import requests

from clinic.serve import QUIET_ENV, VENV_BIN, Assistant
from clinic.settings import PROJECT_ROOT

TEST_RASA_PORT = 5105
TEST_ACTION_PORT = 5155


def run_rasa(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Runs a `rasa` command in the project and returns its result (output captured as text)."""
    return subprocess.run(
        [str(VENV_BIN / "rasa"), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **QUIET_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Visitor:
    """Talks to the assistant over the REST channel, as the website would."""

    def __init__(self, assistant: Assistant, sender: str) -> None:
        self.assistant = assistant
        self.sender = sender

    def say(self, text: str) -> List[Dict]:
        response = requests.post(
            f"{self.assistant.url}/webhooks/rest/webhook", json={"sender": self.sender, "message": text}, timeout=60
        )
        assert response.status_code == 200, response.text
        return response.json()

    def tracker(self) -> Dict:
        response = requests.get(
            f"{self.assistant.url}/conversations/{quote(self.sender, safe='')}/tracker",
            params={"token": self.assistant.token},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def last_answer_action(self) -> str:
        """The `utter_action` recorded on the last bot message (which response answered)."""
        bot_events = [e for e in self.tracker()["events"] if e["event"] == "bot"]
        return bot_events[-1]["metadata"].get("utter_action")


def texts(replies: List[Dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def fill_form(visitor: Visitor, reason: str = "CRPS in my left foot") -> str:
    """Answers every question of the contact form up to the summary; returns the summary."""
    assert "full name" in texts(visitor.say("I'd like to book a consultation"))
    assert "phone number or email" in texts(visitor.say("Ana Lopez"))
    assert "good time" in texts(visitor.say("555-234-5678 or ana@example.com"))
    assert "What would you like to talk about" in texts(visitor.say("weekday mornings"))
    assert "Do you agree" in texts(visitor.say(reason))
    return texts(visitor.say("yes"))


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    if any(item.module.__name__ == "test_reproducible_training" for item in items):
        from test_reproducible_training import start_second_training

        start_second_training()


@contextmanager
def running(server: Assistant, timeout: float = 180) -> Iterator[Assistant]:
    """Starts the servers (showing the end of their logs if they fail to start) and stops them."""
    try:
        server.start(timeout=timeout)
    except Exception:
        for log in server.log_dir.glob("*.log"):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")
        server.stop()
        raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    workdir = tmp_path_factory.mktemp("assistant")
    server = Assistant(
        rasa_port=TEST_RASA_PORT,
        action_port=TEST_ACTION_PORT,
        database=f"sqlite:///{workdir / 'conversations.sqlite'}",
        log_dir=workdir / "logs",
    )
    with running(server):
        yield server


@pytest.fixture
def visitor(assistant: Assistant, request: pytest.FixtureRequest) -> Visitor:
    return Visitor(assistant, sender=re.sub(r"\W+", "-", f"test-{request.node.name}-{os.getpid()}"))
