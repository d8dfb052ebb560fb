"""The deterministic safety layer: staff-curated phrases (safety/patterns.yml) and sensitive numbers
(payment cards, social security numbers), checked on every message before the statistical model, so
a person in crisis is never missed because of training luck."""
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Tuple

import yaml

from clinic.settings import PROJECT_ROOT

PATTERNS_FILE = PROJECT_ROOT / "safety" / "patterns.yml"

# Checked in this order: the first category that matches decides the reply.
CRISIS, EMERGENCY, SENSITIVE_DATA, MEDICAL_ADVICE, MANIPULATION = (
    "crisis", "emergency", "sensitive_data", "medical_advice", "manipulation",
)
PHRASE_CATEGORIES = (CRISIS, EMERGENCY, MEDICAL_ADVICE, MANIPULATION)
# Manipulation attempts get the out-of-scope reply: say what the assistant does, reveal nothing.
INTENT_OF_CATEGORY = {MANIPULATION: "out_of_scope"}

# Far beyond any real message; bounds the cost of a 100 KB message.
MAX_CHECKED_CHARS = 20_000
WILDCARD_WORDS = 3

SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}[- ]?(?!00)\d{2}[- ]?(?!0000)\d{4}(?!\d)")
CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
REDACTED = "[number removed]"


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces; apostrophes dropped so "don't" == "dont"; accents
    dropped so "suicidarme", "suicídarme" and "matarme" == "mátarme" (visitors type both)."""
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("'", ""))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def phrase_words(phrase: str) -> List[str]:
    """A staff phrase's normalised words, with `*` kept as a word."""
    words: List[str] = []
    for word in phrase.replace("*", " * ").split():
        words.extend(["*"] if word == "*" else normalise(word).split())
    return words


def phrase_pattern(phrase: str) -> Pattern[str]:
    """A staff phrase as a whole-word regex over normalised text plus a trailing space; `*` stands
    for any 0 to 3 words."""
    pieces = [rf"(?:\S+ ){{0,{WILDCARD_WORDS}}}" if word == "*" else re.escape(word) + " " for word in phrase_words(phrase)]
    return re.compile(r"(?:^| )" + "".join(pieces))


@dataclass(frozen=True)
class Category:
    name: str
    # phrase regexes grouped by the phrase's first word ("" when it starts with `*`): only phrases whose
    # first word is in the message can match, so a message tries a few of them instead of a thousand
    phrases: Dict[str, Tuple[Pattern[str], ...]]
    not_when: Dict[str, Tuple[Pattern[str], ...]]  # grouped the same way
    # Word lists that trigger together, one phrase from each: a named medicine and the treatment
    # ("will lamotrigine stop ketamine working") is a personal medication question however it is put.
    together: Tuple[Dict[str, Tuple[Pattern[str], ...]], ...] = ()

    def matches(self, normalised: str) -> bool:
        """True when a phrase matches outside the words that a `not_when` phrase covers: exceptions
        are local, so "I want to take my life back, but some days I want to kill myself" still counts."""
        probe = normalised + " "
        for exception in (p for word in {*probe.split(), ""} for p in self.not_when.get(word, ())):
            probe = exception.sub(" | ", probe)
        words = {*probe.split(), ""}

        def found(phrases: Dict[str, Tuple[Pattern[str], ...]]) -> bool:
            return any(p.search(probe) for word in words for p in phrases.get(word, ()))

        return found(self.phrases) or bool(self.together) and all(found(group) for group in self.together)


def by_first_word(phrases: List[str]) -> Dict[str, Tuple[Pattern[str], ...]]:
    groups: Dict[str, List[Pattern[str]]] = {}
    for phrase in phrases:
        words = phrase_words(phrase)
        if words:
            groups.setdefault("" if words[0] == "*" else words[0], []).append(phrase_pattern(phrase))
    return {word: tuple(patterns) for word, patterns in groups.items()}


def load_categories(path: Path = PATTERNS_FILE) -> Dict[str, Category]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    categories = {}
    for name in PHRASE_CATEGORIES:
        section = data.get(name) or {}
        categories[name] = Category(
            name,
            by_first_word([str(p) for p in section.get("phrases") or []]),
            by_first_word([str(p) for p in section.get("not_when") or []]),
            tuple(by_first_word([str(p) for p in group]) for group in section.get("together") or [] if group),
        )
    return categories


@lru_cache(maxsize=4)
def cached_categories(path: Path = PATTERNS_FILE) -> Dict[str, Category]:
    return load_categories(path)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_numbers(text: str) -> List[str]:
    """Payment card numbers (13-19 digits, spaces or dashes allowed, Luhn checksum valid) in text."""
    found = []
    for match in CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(match.group())
    return found


def sensitive_numbers(text: str) -> List[str]:
    return card_numbers(text) + [m.group() for m in SSN.finditer(text) if "-" in m.group() or " " in m.group()]


def redact(text: str) -> str:
    """The text with card and social security numbers replaced, for storage and display."""
    for number in sensitive_numbers(text):
        text = text.replace(number, REDACTED)
    return text


def classify(text: str, categories: Optional[Dict[str, Category]] = None) -> Optional[str]:
    """The safety category of a message (crisis, emergency, sensitive_data, ...), or None."""
    text = (text or "")[:MAX_CHECKED_CHARS]
    categories = categories if categories is not None else cached_categories()
    normalised = normalise(text)
    for name in (CRISIS, EMERGENCY):
        if categories[name].matches(normalised):
            return name
    if sensitive_numbers(text):
        return SENSITIVE_DATA
    for name in (MEDICAL_ADVICE, MANIPULATION):
        if categories[name].matches(normalised):
            return name
    return None


def intent_for(category: str) -> str:
    return INTENT_OF_CATEGORY.get(category, category)
