"""QuestionClassifier on a small real training set: it learns intents and FAQ topics, answers in the
ResponseSelector's shape, and a saved model (plain arrays, no pickle) answers exactly as before."""
from pathlib import Path
from typing import List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

from clinic.nlu_components import SentenceEmbeddingFeaturizer
from clinic.question_classifier import QuestionClassifier

EXAMPLES = {
    "greet": ["hello", "hi there", "good morning", "hey"],
    "faq/side_effects": ["what are the side effects", "will i feel sick", "does it make you dizzy", "any nausea after"],
    "faq/cost_insurance": ["how much does it cost", "is it covered by insurance", "what is the price", "do you take medicare"],
}
CONFIG = {"featurizers": ["sentence_meaning"]}


def featurised(texts: List[str]) -> List[Message]:
    messages = [Message(data={"text": text}) for text in texts]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    SentenceEmbeddingFeaturizer("sentence_meaning", {"alias": "sentence_meaning"}).process(messages)
    return messages


def training_data() -> TrainingData:
    messages = featurised([text for texts in EXAMPLES.values() for text in texts])
    labels = [label for label, texts in EXAMPLES.items() for _ in texts]
    for message, label in zip(messages, labels):
        message.set("intent", label.split("/")[0])
        if "/" in label:
            message.set("intent_response_key", label)
    return TrainingData(messages, responses={"utter_faq/side_effects": [{"text": "Side effects ..."}],
                                             "utter_faq/cost_insurance": [{"text": "Costs ..."}]})


def test_learns_intents_and_topics_and_a_saved_model_answers_the_same(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("question_classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = QuestionClassifier.create(CONFIG, storage, resource, context)
    classifier.train(training_data())

    questions = featurised(["hiya", "could this make me nauseous", "is it expensive"])
    classifier.process(questions)
    assert [m.get("intent")["name"] for m in questions] == ["greet", "faq", "faq"]
    topics = [m.get("response_selector")["faq"]["response"] for m in questions[1:]]
    assert [t["utter_action"] for t in topics] == ["utter_faq/side_effects", "utter_faq/cost_insurance"]
    assert topics[0]["responses"] == [{"text": "Side effects ..."}]

    saved_files = list(tmp_path.rglob("*"))
    assert not any(f.suffix in (".pkl", ".pickle", ".joblib") for f in saved_files)
    loaded = QuestionClassifier.load(CONFIG, storage, resource, context)
    again = featurised(["hiya", "could this make me nauseous", "is it expensive"])
    loaded.process(again)
    for before, after in zip(questions, again):
        ranked_before = [(r["name"], round(r["confidence"], 6)) for r in before.get("intent_ranking")]
        assert ranked_before == [(r["name"], round(r["confidence"], 6)) for r in after.get("intent_ranking")]
        assert before.get("response_selector") == after.get("response_selector")

def test_an_untrained_classifier_leaves_messages_alone(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = QuestionClassifier.load(CONFIG, LocalModelStorage(tmp_path), Resource("never_trained"), context)
    message = featurised(["hello"])[0]
    classifier.process([message])
    assert message.get("intent") is None
