"""NLU pipeline components: bound what reaches the model, add sentence meaning, and fall back when an
FAQ answer is unsure."""
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic import safety
from clinic.settings import PROJECT_ROOT
from clinic.sentence_encoder import shared_encoder

GUARD_VERDICT = "message_guard"
TOO_LONG_INTENT = "message_too_long"
NO_WORDS_INTENT = "empty_message"
VAGUE_INTENT = "nlu_fallback"
# Fillers that ask nothing: the visitor is asked to rephrase (with topic suggestions) whatever the
# model would guess for them.
VAGUE_MESSAGES = {"hm", "hmm", "hmmm", "huh", "um", "umm", "uh", "eh", "er", "what", "wha", "so", "ok so",
                  "okay so", "and", "but", "idk", "i dont know", "i dont get it", "dunno", "whatever", "erm"}


class NamedComponent(GraphComponent):
    """A component built from its graph node's name and its config (Rasa featurizers' signature)."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(execution_context.node_name, config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyGuard(NamedComponent):
    """First in the pipeline, on the whole message: crisis, emergency, sensitive numbers, personal
    medical advice and manipulation attempts found by safety/patterns.yml decide the intent, whatever
    the statistical model thinks (clinic/safety.py)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"patterns": str(safety.PATTERNS_FILE)}

    def __init__(self, name: Text, config: Dict[Text, Any]) -> None:
        path = Path({**self.get_default_config(), **config}["patterns"])
        # Read afresh whenever a model is loaded, so edited patterns apply after a restart or reload.
        self.categories = safety.load_categories(path if path.is_absolute() else PROJECT_ROOT / path)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            category = safety.classify(message.get(TEXT) or "", self.categories)
            if category:
                message.set(GUARD_VERDICT, safety.intent_for(category))
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MessageGuard(NamedComponent):
    """First in the pipeline: cuts overlong text so the model's cost stays bounded, and flags messages
    with no words (empty, whitespace, emoji only) or that were too long, for a polite reply."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": 500}

    def __init__(self, name: Text, config: Dict[Text, Any]) -> None:
        self.max_chars = int({**self.get_default_config(), **config}["max_chars"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            verdict = self.verdict(text, self.max_chars)
            if verdict and not message.get(GUARD_VERDICT):  # a safety verdict comes first
                message.set(GUARD_VERDICT, verdict)
            if len(text) > self.max_chars:
                message.set(TEXT, text[: self.max_chars], add_to_output=False)
        return messages

    @staticmethod
    def verdict(text: Text, max_chars: int) -> Optional[Text]:
        """The intent to force for this text, or None when the model should decide."""
        if len(text) > max_chars:
            return TOO_LONG_INTENT
        if not any(char.isalnum() for char in text):
            return NO_WORDS_INTENT
        if safety.normalise(text) in VAGUE_MESSAGES:
            return VAGUE_INTENT
        return None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False, model_from="SpacyTokensOnly",
)
class SpacyTokensOnly(SpacyNLP):
    """Rasa's SpacyNLP, running only the model's tokenizer: nothing in this pipeline reads spaCy's
    part-of-speech tags, lemmas or entities, and computing them took 4 ms of every message."""

    def _doc_for_text(self, model: Any, text: Text) -> Any:
        return model.make_doc(self._preprocess_text(text))

    @staticmethod
    def _process_content_bearing_samples(model: Any, samples_to_pipe: List[Tuple[int, Text]]) -> List[Tuple[int, Any]]:
        return [(index, model.make_doc(text)) for index, text in samples_to_pipe]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, NamedComponent):
    """Adds a whole-sentence meaning vector (all-MiniLM-L6-v2) to each message, so the classifiers
    recognise paraphrases that share no words with the training examples ("narcotics" ~ "opioids")."""

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def process(self, messages: List[Message]) -> List[Message]:
        encoder = shared_encoder()
        for message in messages:
            text = message.get(TEXT)
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            if text and tokens:
                sentence = encoder.encode(text).reshape(1, -1)
                # Rasa's classifiers need token-level features too; each token carries the sentence's
                # meaning, so a classifier can use this featurizer alone.
                sequence = np.repeat(sentence, len(tokens), axis=0)
                self.add_features_to_message(sequence=sequence, sentence=sentence, attribute=TEXT, message=message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqFallbackClassifier(FallbackClassifier):
    """Rasa's FallbackClassifier, which only sees intent confidence, extended to fall back when the
    ResponseSelector is unsure which FAQ answer fits, and to apply the guards' verdicts. A crisis
    only the model sees (no staff phrase matched) becomes `crisis_possible`: the reply still gives
    988 and 911, but checks in rather than presumes, since the model also fires on idioms."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **FallbackClassifier.get_default_config(),
            "retrieval_intent": "faq",
            "response_threshold": 0.5,
            "model_only_intents": {"crisis": "crisis_possible"},
            # ... also when the model gives it this much, even if another intent comes first: missing
            # a crisis costs more than a gentle check-in (chosen by cross-validation: README, "Safety").
            "check_in_thresholds": {"crisis": 0.25},
            # A phrase verdict that the model also reads as a possible crisis: the phrase's reply
            # stays (a medication question is always declined), and the crisis help follows it.
            # "read that ketamine and alcohol together can stop your breathing. how much would i
            # need, i just want it over" names a medicine and the treatment.
            "check_in_after": {"medical_advice": "medical_advice_check_in"},
        }

    def process(self, messages: List[Message]) -> List[Message]:
        undecided = []
        for message in messages:
            verdict = message.get(GUARD_VERDICT)
            if verdict in self.component_config["check_in_after"] and self._likely_crisis(message):
                verdict = self.component_config["check_in_after"][verdict]
            if verdict:
                forced = {INTENT_NAME_KEY: verdict, "confidence": 1.0}
                # add_to_output: for a message without words no classifier ran to make these outputs.
                message.set(INTENT, forced, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [forced], add_to_output=True)
            else:
                undecided.append(message)
        super().process(undecided)
        renamed = self.component_config["model_only_intents"] or {}
        for message in undecided:
            intent = message.data.get(INTENT) or {}
            likely = self._likely_crisis(message)
            if likely:
                intent = likely[0]
            if intent.get(INTENT_NAME_KEY) in renamed:
                message.set(INTENT, {**intent, INTENT_NAME_KEY: renamed[intent[INTENT_NAME_KEY]]}, add_to_output=True)
        return messages

    def _likely_crisis(self, message: Message) -> List[Dict[Text, Any]]:
        """The model's rankings at or over their check-in threshold (crisis at 0.25)."""
        thresholds = self.component_config["check_in_thresholds"] or {}
        return [r for r in message.data.get(INTENT_RANKING_KEY) or []
                if r.get(INTENT_NAME_KEY) in thresholds and r.get("confidence", 0.0) >= thresholds[r[INTENT_NAME_KEY]]]

    def _should_fallback(self, message: Message) -> bool:
        return super()._should_fallback(message) or self._response_unsure(message)

    def _response_unsure(self, message: Message) -> bool:
        retrieval_intent = self.component_config["retrieval_intent"]
        if message.data[INTENT].get(INTENT_NAME_KEY) != retrieval_intent:
            return False
        prediction = (message.get("response_selector") or {}).get(retrieval_intent) or {}
        confidence = (prediction.get("response") or {}).get("confidence") or 0.0
        return confidence < self.component_config["response_threshold"]
