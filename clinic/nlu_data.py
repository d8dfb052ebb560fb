"""Reading the training examples staff write in data/ (Rasa's YAML `examples: |` blocks)."""
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import yaml


def examples_of(block: Dict[str, Any]) -> List[str]:
    """The example sentences of one `- intent:` block, in file order."""
    lines = (block.get("examples") or "").splitlines()
    return [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]


def nlu_blocks(data_dir: Path) -> Iterator[Dict[str, Any]]:
    """Every `- intent:` block of every YAML file under data_dir."""
    for path in sorted(data_dir.rglob("*.yml")):
        yield from (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []


def normalise(example: str) -> str:
    """Two examples count as the same when they differ only in case, punctuation or spacing."""
    return " ".join(re.sub(r"[^\w\s']", " ", example.lower()).split())
