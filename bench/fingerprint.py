"""What a trained model predicts for a fixed list of questions (every question of the bench sets), as
one line per question: the label it would answer with, and its confidence in full.

Two models trained from the same content must give identical lines (tests/test_reproducible_training.py);
a difference shows which questions an environment or code change moved.

    .venv/bin/python bench/fingerprint.py [--model models/<hash>.tar.gz ...] [--out predictions.txt]

With several models it prints each one's digest and the questions on which they differ, and exits 1
if they differ.
"""
import argparse
import asyncio
import hashlib
import logging
import os
import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.accuracy import predicted_label  # noqa: E402
from bench.heldout_set import BENCH_DIR, heldout  # noqa: E402
from clinic.serve import CURRENT_MODEL_FILE  # noqa: E402
from clinic.settings import PROJECT_ROOT  # noqa: E402

QUESTION_SETS = ("dev_questions.yml", "dev_questions_2.yml", "heldout.yml")


def questions() -> List[str]:
    return [q for name in QUESTION_SETS for qs in heldout(BENCH_DIR / name).values() for q in qs]


async def predictions(model: Path) -> List[str]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    lines = []
    for question in questions():
        parse = await agent.parse_message(question)
        lines.append(f"{predicted_label(parse)}\t{parse['intent']['confidence']!r}\t{question}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, nargs="+", help="default: the model in use (var/current-model)")
    parser.add_argument("--out", type=Path, help="write the first model's lines here")
    args = parser.parse_args()
    models = args.model or [PROJECT_ROOT / CURRENT_MODEL_FILE.read_text().strip()]
    results = [asyncio.run(predictions(model)) for model in models]
    if args.out:
        args.out.write_text("\n".join(results[0]) + "\n", encoding="utf-8")
    for model, lines in zip(models, results):
        print(f"{model}: {len(lines)} questions, digest {hashlib.sha256(chr(10).join(lines).encode()).hexdigest()[:16]}")
    differences = [(a, b) for a, b in zip(results[0], *results[1:2]) if a != b]
    for first, other in differences:
        print(f"differ:\n  {first}\n  {other}")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
