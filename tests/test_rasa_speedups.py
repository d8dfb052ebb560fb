"""Rasa speed fixes behave as Rasa does: the action-response check accepts and refuses the same
responses, and the plain graph runner gives dask's results."""
from pathlib import Path

import jsonschema
import pytest
import rasa.core.processor
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.loader import load_predict_graph_runner
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic import rasa_speedups
from clinic.serve import CURRENT_MODEL_FILE
from clinic.settings import PROJECT_ROOT

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


def test_the_rasa_server_uses_them() -> None:
    import clinic.tracker_store  # noqa: F401  (what endpoints.yml makes the server import)

    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
    assert rasa.core.processor.DaskGraphRunner is rasa_speedups.SequentialGraphRunner
    assert MessageProcessor.parse_message is rasa_speedups.parse_message
    assert Domain.is_empty is rasa_speedups.domain_is_empty


def test_an_empty_domain_is_still_told_apart() -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    assert rasa_speedups.domain_is_empty(Domain.empty()) and not rasa_speedups.domain_is_empty(domain)
    assert not rasa_speedups.domain_is_empty(domain)  # kept


def test_the_model_runs_as_with_dask(tmp_path: Path) -> None:
    """Same understanding of messages and same next actions as Rasa's dask runner."""
    model = Path(CURRENT_MODEL_FILE.read_text().strip())
    (tmp_path / "dask").mkdir(), (tmp_path / "ours").mkdir()  # Rasa unpacks a model into an existing folder
    metadata, theirs = load_predict_graph_runner(tmp_path / "dask", model, LocalModelStorage, DaskGraphRunner)
    _, ours = load_predict_graph_runner(tmp_path / "ours", model, LocalModelStorage, rasa_speedups.SequentialGraphRunner)
    domain = metadata.domain
    for text in ["hi", "is ketamin safe?", "how much does it cost", "i want to end my life", "asdfgh", "😀😀",
                 "I'd like to book a consultation"]:
        tracker = DialogueStateTracker.from_events("runner", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots)
        inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: tracker}
        [expected] = theirs.run(inputs=inputs, targets=[metadata.nlu_target])[metadata.nlu_target]
        [parsed] = ours.run(inputs=inputs, targets=[metadata.nlu_target])[metadata.nlu_target]
        assert parsed.as_dict(only_output_properties=True) == expected.as_dict(only_output_properties=True)
        tracker.update(UserUttered(text, parsed.data["intent"], parse_data=parsed.as_dict()))
        inputs = {PLACEHOLDER_TRACKER: tracker}
        expected_action = theirs.run(inputs=inputs, targets=[metadata.core_target])[metadata.core_target]
        action = ours.run(inputs=inputs, targets=[metadata.core_target])[metadata.core_target]
        assert (action.probabilities, action.policy_name, action.events) == (
            expected_action.probabilities, expected_action.policy_name, expected_action.events)

