"""The FAQ topics as staff wrote them in data/faq/: each topic's first example is its suggestion."""
from functools import lru_cache
from pathlib import Path
from typing import Dict

import yaml

FAQ_DIR = Path(__file__).resolve().parent.parent / "data" / "faq"


@lru_cache(maxsize=1)
def suggested_questions(faq_dir: Path = FAQ_DIR) -> Dict[str, str]:
    """{"faq/<topic>": first example question} for every topic file."""
    questions = {}
    for path in sorted(faq_dir.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            examples = [line[2:].strip() for line in block.get("examples", "").splitlines() if line.startswith("- ")]
            if examples:
                questions[block["intent"]] = examples[0]
    return questions
