"""The pipeline guards, on messages as the NLU pipeline passes them."""
from rasa.shared.nlu.training_data.message import Message

from clinic.nlu_components import FaqFallbackClassifier, MessageGuard


def guarded(text: str, max_chars: int = 500) -> Message:
    message = Message(data={"text": text})
    MessageGuard("guard", {"max_chars": max_chars}).process([message])
    return message


def test_long_text_is_cut_before_the_model_and_flagged() -> None:
    message = guarded("pain " * 20000)
    assert len(message.get("text")) == 500
    assert message.get("message_guard") == "message_too_long"


def test_messages_without_words_are_flagged_and_normal_ones_are_not() -> None:
    assert guarded("").get("message_guard") == "empty_message"
    assert guarded(" \n ").get("message_guard") == "empty_message"
    assert guarded("🙂🙂").get("message_guard") == "empty_message"
    assert guarded("is it safe?").get("message_guard") is None


def fallback(message: Message) -> Message:
    config = {**FaqFallbackClassifier.get_default_config(), "threshold": 0.5, "response_threshold": 0.5}
    FaqFallbackClassifier(config).process([message])
    return message


def faq_message(response_confidence: float) -> Message:
    return Message(data={
        "text": "x",
        "intent": {"name": "faq", "confidence": 0.95},
        "intent_ranking": [{"name": "faq", "confidence": 0.95}, {"name": "greet", "confidence": 0.05}],
        "response_selector": {"faq": {"response": {"confidence": response_confidence}}},
    })


def test_unsure_faq_answer_falls_back_even_when_the_intent_is_sure() -> None:
    assert fallback(faq_message(0.3)).get("intent")["name"] == "nlu_fallback"
    assert fallback(faq_message(0.9)).get("intent")["name"] == "faq"


def test_guard_verdict_overrides_the_model() -> None:
    message = faq_message(0.9)
    message.set("message_guard", "message_too_long")
    assert fallback(message).get("intent")["name"] == "message_too_long"
