"""Custom actions, run directly with a tracker as Rasa would send it."""
import asyncio
import shutil

from rasa_sdk import Tracker
from rasa_sdk.events import SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSessionStart
from actions.suggestions import ActionSuggestTopics
from actions.topics import FAQ_DIR, suggested_questions


def tracker_with(parse_data: dict) -> Tracker:
    return Tracker("visitor", {}, parse_data, [], False, None, {}, "action_listen")


def test_suggestions_are_the_three_best_ranked_topics_as_plain_questions() -> None:
    ranking = [{"intent_response_key": f"faq/{t}", "confidence": c}
               for t, c in (("onset", 0.4), ("duration", 0.3), ("session", 0.2), ("safety", 0.1))]
    parse = {"intent": {"name": "nlu_fallback"}, "response_selector": {"faq": {"ranking": ranking}}}
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSuggestTopics().run(dispatcher, tracker_with(parse), {}))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_ask_rephrase"
    questions = suggested_questions()
    assert [b["payload"] for b in message["buttons"]] == [questions[f"faq/{t}"] for t in ("onset", "duration", "session")]


def test_every_topic_has_a_suggestion_question() -> None:
    assert len(suggested_questions()) == len(list(FAQ_DIR.glob("*.yml"))) >= 17
    assert all(q.endswith("?") for q in suggested_questions().values())


def test_a_topic_staff_add_is_suggested_without_a_restart(tmp_path) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, faq)
    before = suggested_questions(faq)
    (faq / "parking.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/parking\n  examples: |\n    - Where can I park?\n    - parking?\n')
    assert suggested_questions(faq) == {**before, "faq/parking": "Where can I park?"}


def test_session_start_loads_clinic_settings(monkeypatch) -> None:
    monkeypatch.setenv("CLINIC_PHONE", "555-0199")
    monkeypatch.setenv("CLINIC_NAME", "Example Pain Clinic")
    events = asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker_with({}), {}))
    assert events[0] == SessionStarted()
    assert SlotSet("clinic_phone", "555-0199") in events and SlotSet("clinic_name", "Example Pain Clinic") in events
