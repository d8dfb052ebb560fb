"""RecentTurnsRulePolicy predicts exactly what Rasa's RulePolicy predicts, at every step of a long
real conversation that goes through the contact form and its interruptions."""
import json
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.policies import RecentTurnsRulePolicy, recent_states
from clinic.serve import CURRENT_MODEL_FILE
from tests.conftest import Visitor

Policies = Tuple[RulePolicy, RecentTurnsRulePolicy, Domain]


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> Policies:
    """Rasa's RulePolicy and ours, both loaded from the served model's rules."""
    model = Path(CURRENT_MODEL_FILE.read_text().strip())
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path_factory.mktemp("model"), model)
    [node] = [n for n in metadata.predict_schema.nodes.values() if n.uses is RecentTurnsRulePolicy]
    context = ExecutionContext(metadata.predict_schema, metadata.model_id)
    config = {**RulePolicy.get_default_config(), **node.config}
    theirs = RulePolicy.load(dict(config), storage, node.resource, context)
    ours = RecentTurnsRulePolicy.load(dict(config), storage, node.resource, context)
    assert theirs.lookup["rules"], "the model has no rules"
    return theirs, ours, metadata.domain


@pytest.fixture(scope="module")
def long_conversation(assistant) -> List[Dict]:  # type: ignore[no-untyped-def]
    """Events of a visitor who asks, starts the form, is interrupted (a question, a crisis message,
    a cancel), books for real, then keeps asking."""
    visitor = Visitor(assistant, sender="policy-equivalence")
    for text in ["hi", "what is ketamine infusion therapy?", "is it safe", "are you a bot?",
                 "can someone call me back", "Ana Lopez", "how long does one infusion session take?",
                 "i want to kill myself", "ana@example.com", "never mind",
                 "I'd like to book a consultation", "Ana Lopez", "555-234-5678", "weekday mornings",
                 "CRPS in my left foot", "yes", "yes", "thanks", "side effects?", "how many infusions will i need",
                 "asdfgh", "does insurance cover it", "yes please", "Ana Lopez", "stop",
                 "can it help with fibromyalgia", "is it addictive", "how soon does it work",
                 "what else could i try", "bye"]:
        visitor.say(text)
    return visitor.tracker()["events"]


def prefixes_before_actions(events: List[Dict], domain: Domain) -> Iterator[DialogueStateTracker]:
    """The conversation as it stood before each action the policy chose."""
    for end, event in enumerate(events):
        if event["event"] == "action" and event.get("policy"):
            yield DialogueStateTracker.from_dict("policy-equivalence", events[:end], domain.slots)


def same(a: PolicyPrediction, b: PolicyPrediction) -> bool:
    fields = ("probabilities", "events", "optional_events", "is_end_to_end_prediction", "is_no_user_prediction",
              "hide_rule_turn", "action_metadata")
    return all(getattr(a, field) == getattr(b, field) for field in fields)


def test_same_prediction_as_rasa_rule_policy_at_every_step(policies: Policies, long_conversation: List[Dict]) -> None:
    theirs, ours, domain = policies
    trackers = list(prefixes_before_actions(long_conversation, domain))
    assert len(trackers) > 60, "the conversation should be long"
    assert any(t.active_loop_name for t in trackers), "the conversation should go through the form"
    for tracker in trackers:
        expected = theirs.predict_action_probabilities(tracker, domain)
        got = ours.predict_action_probabilities(tracker, domain)
        assert same(expected, got), f"after {[e.as_dict().get('name') or e.type_name for e in tracker.events][-6:]}"


def test_reads_the_last_turns_as_rasa_sees_them(policies: Policies, long_conversation: List[Dict]) -> None:
    theirs, ours, domain = policies
    turns = ours._longest_rule()
    assert turns == max(len(json.loads(key)) for name in ("rules", "rules_for_loop_unhappy_path") for key in ours.lookup[name])
    trackers = list(prefixes_before_actions(long_conversation, domain))
    assert len(trackers[-1].past_states(domain)) > 5 * turns
    for tracker in trackers:
        assert recent_states(tracker, domain, turns) == tracker.past_states(domain)[-turns:]
        for use_text in (True, False):
            everything = theirs._prediction_states(tracker, domain, use_text)
            assert ours._prediction_states(tracker, domain, use_text) == everything[-turns:]
