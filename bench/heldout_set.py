"""The question sets of bench/ (heldout.yml for reporting, dev_questions.yml for tuning), and a check
that none of their questions is in the training data."""
from pathlib import Path
from typing import Dict, List, Set

import yaml

from clinic.nlu_data import examples_of, nlu_blocks, normalise
from clinic.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "bench"

HELDOUT = BENCH_DIR / "heldout.yml"
DEV = BENCH_DIR / "dev_questions.yml"


def heldout(path: Path = HELDOUT) -> Dict[str, List[str]]:
    """{expected label: questions}; labels are intents, or faq/<topic> for FAQ questions."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def training_examples(data_dir: Path = PROJECT_ROOT / "data") -> Set[str]:
    return {normalise(example) for block in nlu_blocks(data_dir) for example in examples_of(block)}


NEAR_DUPLICATE = 0.8  # share of words two questions have in common (Jaccard) to count as the same


def similarity(a: str, b: str) -> float:
    words_a, words_b = set(normalise(a).split()), set(normalise(b).split())
    return len(words_a & words_b) / max(1, len(words_a | words_b))


def leaked_questions() -> List[str]:
    """Held-out questions that are also in the training data, exactly or nearly (then not held out)."""
    seen = training_examples()
    return [
        q for path in (HELDOUT, DEV) for questions in heldout(path).values() for q in questions
        if normalise(q) in seen or any(similarity(q, example) >= NEAR_DUPLICATE for example in seen)
    ]
