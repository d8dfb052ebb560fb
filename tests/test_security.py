"""The HTTP API refuses requests without the token; errors never show stack traces or paths."""
from pathlib import Path

import pytest
import requests

from clinic.serve import Assistant

PROTECTED = [
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/conversations/someone/messages"),
    ("POST", "/conversations/someone/trigger_intent"),
    ("GET", "/conversations/someone/story"),
    ("PUT", "/model"),
    ("POST", "/model/train"),
    ("POST", "/model/parse"),
    ("GET", "/status"),
    ("GET", "/domain"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_api_refuses_requests_without_the_right_token(assistant: Assistant, method: str, path: str) -> None:
    for params in ({}, {"token": "wrong-token"}):
        response = requests.request(method, assistant.url + path, params=params, json={}, timeout=30)
        assert response.status_code in (401, 403), (path, response.status_code)
        assert "Traceback" not in response.text and "/work/" not in response.text and "site-packages" not in response.text


def test_the_token_opens_the_api(assistant: Assistant) -> None:
    response = requests.get(f"{assistant.url}/status", params={"token": assistant.token}, timeout=30)
    assert response.ok and response.json()["model_file"]


def test_the_token_is_not_on_any_servers_command_line(assistant: Assistant) -> None:
    """Any user of the machine can read command lines (`ps`); the token goes by the environment."""
    for process in assistant.processes:
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert assistant.token not in command_line, command_line
    # ... and the server still got it: the right token opens the API, a wrong one does not.
    assert requests.get(f"{assistant.url}/status", params={"token": assistant.token}, timeout=30).ok
    assert requests.get(f"{assistant.url}/status", params={"token": "x" + assistant.token}, timeout=30).status_code == 401
