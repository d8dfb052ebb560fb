"""The language of each visitor message, English or Spanish, for the `language` slot that picks the
Spanish variation of every reply.

lingua (a well-kept detector that ships its models in the package) is accurate on sentences and weak
on one or two words ("si", "no", "ok", a name), so the slot changes only on a clear verdict and the
conversation keeps its language otherwise; English is the default. Thresholds measured on the English
bench sets and the Spanish development probe: docs/measurements.md.
"""
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

ENGLISH, SPANISH = "en", "es"
LANGUAGE_ENTITY = "language"
# Only Spanish opens a question or exclamation with these; one is a clear verdict on its own.
SPANISH_MARKS = ("¿", "¡")


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).build()


def detect(text: Text, min_confidence: float = 0.7, short_min_confidence: float = 0.9,
           min_single_word_letters: int = 5) -> Optional[Text]:
    """"en" or "es" when the text clearly is that language, None when it cannot tell. One or two words
    need more certainty: "Ana Lopez" is 0.74 Spanish, and a name says nothing of the visitor's language."""
    if any(mark in text for mark in SPANISH_MARKS):
        return SPANISH
    words = text.split()
    if not words or (len(words) == 1 and sum(c.isalpha() for c in words[0]) < min_single_word_letters):
        return None
    if len(words) <= 2:
        min_confidence = max(min_confidence, short_min_confidence)
    from lingua import Language

    spanish = _detector().compute_language_confidence(text, Language.SPANISH)
    if spanish >= min_confidence:
        return SPANISH
    if 1 - spanish >= min_confidence:
        return ENGLISH
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds a `language` entity (en/es) to messages whose language is clear; the domain maps it to
    the `language` slot."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_confidence": 0.7, "short_min_confidence": 0.9, "min_single_word_letters": 5}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageDetector":
        _detector()  # load the models at start, not on the first visitor's message
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            language = detect(text, self.config["min_confidence"], self.config["short_min_confidence"],
                              self.config["min_single_word_letters"])
            if language:
                entity = {"entity": LANGUAGE_ENTITY, "value": language, "start": 0, "end": len(text)}
                entities = [*message.get(ENTITIES, []), *self.add_extractor_name([entity])]
                message.set(ENTITIES, entities, add_to_output=True)
        return messages
