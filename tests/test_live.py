"""The real assistant over REST: the held-out questions, conversation basics, bad input."""
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

import pytest
import requests

from actions.topics import suggested_questions
from bench.heldout_set import HELDOUT, heldout, normalise, training_examples
from conftest import Visitor

# Never in the training data (checked below), one per topic.
UNSEEN_QUESTIONS = {
    "what_is": "could you explain what a ketamine infusion actually is",
    "how_it_works": "what does ketamine do in the nervous system to stop pain",
    "conditions": "which chronic pain conditions do ketamine infusions help with",
    "mental_health": "can the infusions help my depression too",
    "acute_pain": "is ketamine used for pain right after an operation",
    "safety": "how safe are these ketamine infusions",
    "side_effects": "what side effects might i get from the infusion",
    "addiction": "could i become addicted to ketamine",
    "duration": "how long will the pain relief last after my infusion",
    "onset": "how soon after the infusion will i feel better",
    "number_of_infusions": "how many infusion sessions will i need",
    "session": "what happens during an infusion appointment",
    "candidacy": "how do i know if im a good candidate for ketamine",
    "vs_opioids": "is ketamine better than taking opioids for pain",
    "alternatives": "what other options are there besides ketamine",
    "cost_insurance": "does insurance pay for the infusions",
    "location_hours": "what are your opening hours",
}


def test_unseen_questions_are_not_in_training_data() -> None:
    seen = training_examples()
    assert [q for q in UNSEEN_QUESTIONS.values() if normalise(q) in seen] == []


def test_held_out_questions_are_answered_from_their_article(assistant) -> None:  # type: ignore[no-untyped-def]
    """The model's judgement, so a rate over a set (bench/heldout.yml, written blind, never tuned on;
    bench/accuracy.py scores it at 97.8%), not single sentences; and every answer names its source."""
    questions = [(label, q) for label, qs in heldout(HELDOUT).items() if label.startswith("faq/") for q in qs]
    visitor = Visitor(assistant, sender="held-out")
    right = 0
    for label, question in questions:
        replies = visitor.say(question)
        if visitor.last_answer_action() == f"utter_{label}":
            right += 1
            assert len(replies) == 1 and "Source" in replies[0]["text"], question
    assert right / len(questions) >= 0.95, f"{right} of {len(questions)}"


def test_visitors_asking_at_the_same_moment_each_get_their_own_answer(assistant, request) -> None:  # type: ignore[no-untyped-def]
    """Messages are understood off the server's main loop while other conversations go on: 17
    visitors asking at once, three questions each, every answer is the one the same question gets
    when asked alone."""
    topics = sorted(UNSEEN_QUESTIONS)
    alone = {}
    for topic in topics:
        single = Visitor(assistant, sender=f"alone-{topic}-{request.node.name}")
        single.say(UNSEEN_QUESTIONS[topic])
        alone[topic] = single.last_answer_action()

    def conversation(topic: str) -> List[Optional[str]]:
        visitor = Visitor(assistant, sender=f"together-{topic}-{request.node.name}")
        answered = []
        for _ in range(3):
            visitor.say(UNSEEN_QUESTIONS[topic])
            answered.append(visitor.last_answer_action())
        return answered

    with ThreadPoolExecutor(max_workers=len(topics)) as pool:
        answers = dict(zip(topics, pool.map(conversation, topics)))
    assert answers == {topic: [alone[topic]] * 3 for topic in topics}


def test_greeting_says_it_is_automated_and_not_medical_advice(visitor: Visitor) -> None:
    (reply,) = visitor.say("hello")
    assert "automated assistant" in reply["text"] and "not medical advice" in reply["text"]
    assert reply["buttons"]


def test_bot_challenge_thanks_goodbye(visitor: Visitor) -> None:
    assert "not a person" in visitor.say("are you a real human?")[0]["text"]
    assert "welcome" in visitor.say("thank you!")[0]["text"]
    assert "Goodbye" in visitor.say("bye")[0]["text"]


def test_out_of_scope_says_what_it_can_help_with(visitor: Visitor) -> None:
    (reply,) = visitor.say("can you give me a recipe for chocolate cake")
    assert "can't help with that" in reply["text"] and "ketamine infusion therapy" in reply["text"]


@pytest.mark.parametrize("vague", ["ok so", "what?", "hmm"])
def test_vague_message_asks_to_rephrase_with_three_topic_buttons(visitor: Visitor, vague: str) -> None:
    (reply,) = visitor.say(vague)
    assert "say it another way" in reply["text"]
    assert len(reply["buttons"]) == 3
    assert all(not b["payload"].startswith("/") for b in reply["buttons"])


@pytest.mark.parametrize("topic", sorted(UNSEEN_QUESTIONS))
def test_suggestion_button_payloads_reach_their_topic(visitor: Visitor, topic: str) -> None:
    visitor.say(suggested_questions()[f"faq/{topic}"])
    assert visitor.last_answer_action() == f"utter_faq/{topic}"


def test_clinic_details_come_from_settings(visitor: Visitor, assistant) -> None:
    (reply,) = visitor.say("what is the clinic's phone number")
    assert visitor.last_answer_action() == "utter_faq/location_hours"
    assert "the phone number shown on this website" in reply["text"]


@pytest.mark.parametrize(
    "message, expected",
    [
        ("", "didn't catch any words"),
        ("    \n\t ", "didn't catch any words"),
        ("😀🙏💉", "didn't catch any words"),
        ("pain " * 20000, "too long"),
    ],
    ids=["empty", "whitespace", "emoji", "100KB"],
)
def test_bad_input_gets_a_polite_reply(visitor: Visitor, message: str, expected: str) -> None:
    replies = visitor.say(message)
    assert expected in replies[0]["text"]
    # and the conversation goes on normally afterwards
    visitor.say("what are the side effects")
    assert visitor.last_answer_action() == "utter_faq/side_effects"


def test_http_api_needs_the_token(assistant) -> None:
    for path in ("/conversations/someone/tracker", "/status"):
        assert requests.get(f"{assistant.url}{path}", timeout=10).status_code in (401, 403)
        assert requests.get(f"{assistant.url}{path}", params={"token": "wrong"}, timeout=10).status_code in (401, 403)


def test_conversations_are_stored_in_the_database(visitor: Visitor, assistant) -> None:
    import sqlalchemy as sa

    visitor.say("is it addictive")
    engine = sa.create_engine(assistant.database)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("select count(*) from events where sender_id = :sender"), {"sender": visitor.sender}
        ).scalar()
    assert rows > 0
