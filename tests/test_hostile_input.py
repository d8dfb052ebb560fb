"""Hostile or broken requests to the REST webhook: a short JSON error (4xx) or a polite reply, never a
5xx, a hang, a stack trace or a dead server."""
import json
from typing import Any

import pytest
import requests

from clinic.serve import Assistant
from conftest import Visitor

REFUSED_BODIES = {
    "not JSON": "this is not json",
    "empty body": "",
    "a list": json.dumps(["hello"]),
    "a number": "42",
    "message is a number": json.dumps({"sender": "x", "message": 42}),
    "message is a list": json.dumps({"sender": "x", "message": ["is it safe?"]}),
    "message missing": json.dumps({"sender": "x"}),
    "sender is a list": json.dumps({"sender": ["x"], "message": "hi"}),
    "100 KB sender": json.dumps({"sender": "s" * 100_000, "message": "hi"}),
}
ANSWERED_MESSAGES = {
    "html and script": "<script>alert('x')</script><b>is it safe?</b>",
    "sql fragment": "'; DROP TABLE events; --",
    "nul bytes": "is it\u0000 safe?",
    "right-to-left override": "\u202eis it safe?\u202c",
    "emoji only": "😀😀😀",
    "whitespace only": "   \n\t ",
    "100 KB message": "pain " * 20_000,
}


def post(assistant: Assistant, body: Any, **kwargs: Any) -> requests.Response:
    return requests.post(f"{assistant.url}/webhooks/rest/webhook", data=body,
                         headers={"Content-Type": "application/json"}, timeout=60, **kwargs)


def assert_still_answers(assistant: Assistant) -> None:
    replies = Visitor(assistant, "after-hostile-input").say("what is ketamine infusion therapy?")
    assert "Source" in replies[0]["text"]


@pytest.mark.parametrize("case", sorted(REFUSED_BODIES))
def test_malformed_requests_get_a_short_json_error(assistant: Assistant, case: str) -> None:
    response = post(assistant, REFUSED_BODIES[case])
    assert response.status_code == 400
    error = response.json()["error"]
    assert len(error) < 200 and "Traceback" not in error and "/" not in error.split("{")[0]
    assert_still_answers(assistant)


@pytest.mark.parametrize("case", sorted(ANSWERED_MESSAGES))
def test_strange_messages_get_a_polite_reply(assistant: Assistant, case: str) -> None:
    response = post(assistant, json.dumps({"sender": f"hostile-{case.replace(' ', '-')}", "message": ANSWERED_MESSAGES[case]}))
    assert response.status_code == 200
    replies = response.json()
    assert replies and all(reply.get("text") for reply in replies)
    assert all("<script>" not in reply["text"] and "DROP TABLE" not in reply["text"] for reply in replies)
    assert_still_answers(assistant)


def test_path_like_sender_ids_are_sanitised(assistant: Assistant) -> None:
    response = post(assistant, json.dumps({"sender": "../../etc/passwd", "message": "hello"}))
    assert response.status_code == 200 and response.json()
    tracker = Visitor(assistant, "..-..-etc-passwd").tracker()
    assert any(event.get("text") == "hello" for event in tracker["events"])


def test_stored_messages_are_bounded(assistant: Assistant) -> None:
    visitor = Visitor(assistant, "hostile-stored-size")
    visitor.say("x" * 100_000)
    stored = [event["text"] for event in visitor.tracker()["events"] if event["event"] == "user"]
    assert stored and len(stored[-1]) <= 5000
