"""The FAQ topics as staff wrote them in data/faq/: each topic's first example is its suggestion."""
from functools import lru_cache
from pathlib import Path
from typing import Dict

from clinic.nlu_data import examples_of, nlu_blocks

FAQ_DIR = Path(__file__).resolve().parent.parent / "data" / "faq"


@lru_cache(maxsize=1)
def suggested_questions(faq_dir: Path = FAQ_DIR) -> Dict[str, str]:
    """{"faq/<topic>": first example question} for every topic file."""
    return {block["intent"]: examples[0] for block in nlu_blocks(faq_dir) if (examples := examples_of(block))}
