"""The FAQ topics as staff wrote them in data/faq/: each topic's first example is its suggestion."""
from functools import lru_cache
from pathlib import Path
from typing import Dict, Tuple

from clinic.nlu_data import examples_of, nlu_blocks

FAQ_DIR = Path(__file__).resolve().parent.parent / "data" / "faq"


def suggested_questions(faq_dir: Path = FAQ_DIR) -> Dict[str, str]:
    """{"faq/<topic>": first example question} for every topic file, read again when a file changes
    (a topic staff add is suggested once its model is loaded, without restarting the action server)."""
    files = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in faq_dir.glob("*.yml")))
    return _read(faq_dir, files)


@lru_cache(maxsize=4)
def _read(faq_dir: Path, files: Tuple[Tuple[str, int], ...]) -> Dict[str, str]:
    return {block["intent"]: examples[0] for block in nlu_blocks(faq_dir) if (examples := examples_of(block))}
