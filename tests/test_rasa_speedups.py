"""The faster action-response check accepts and refuses exactly what Rasa's own check does."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from clinic import rasa_speedups

GOOD = {"events": [{"event": "slot", "name": "contact_name", "value": "Ana"}], "responses": [{"text": "Hi"}]}
BAD = [{"events": "not a list"}, {"events": [{"event": "slot", "name": 3}]}, {"responses": ["text"]}]


def rasa_accepts(result: dict) -> bool:
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        return True
    except jsonschema.ValidationError:
        return False


def test_valid_action_responses_pass() -> None:
    assert rasa_accepts(GOOD)
    assert rasa_speedups._validate_action_result(None, GOOD) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("result", BAD)
def test_invalid_action_responses_are_refused_like_rasa_does(result: dict) -> None:
    assert not rasa_accepts(result)
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        rasa_speedups._validate_action_result(None, result)  # type: ignore[arg-type]


def test_the_rasa_server_uses_it() -> None:
    import clinic.tracker_store  # noqa: F401  (what endpoints.yml makes the server import)

    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
