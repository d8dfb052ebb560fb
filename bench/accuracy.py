"""Scores the trained model on held-out visitor questions (bench/heldout.yml by default), per topic.

A question counts as correct only when the assistant would give the right answer: the right intent
and, for FAQ questions, the right topic, without falling back. Fallbacks (asking to rephrase) are
counted apart from wrong answers, because a fallback is safe and a wrong answer is not.

    .venv/bin/python bench/accuracy.py [--model models/<hash>.tar.gz] [--questions bench/dev_questions.yml ...]
                                       [--show-errors]
Several question files are scored pooled (one line per label over all of them).
"""
import argparse
import asyncio
import logging
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Union

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.heldout_set import HELDOUT, PROJECT_ROOT, heldout, leaked_questions, training_examples  # noqa: E402
from clinic.nlu_data import normalise  # noqa: E402
from clinic.serve import CURRENT_MODEL_FILE  # noqa: E402


SEEN = "(questions also in the training data)"


def predicted_label(parse: Dict[str, Any]) -> str:
    intent = parse["intent"]["name"]
    if intent == "faq":
        # Stock Rasa's ResponseSelector, trained without `retrieval_intent`, answers under "default".
        selectors = parse["response_selector"]
        return (selectors.get("faq") or selectors["default"])["response"]["intent_response_key"]
    return intent


async def score(model: Path, questions_files: Union[Path, List[Path]], show_errors: bool) -> Dict[str, Counter]:
    """Outcomes per label over one question file, or several pooled."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa's structured log prints every parse at debug level unless configured, as `rasa run` does.
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    results: Dict[str, Counter] = defaultdict(Counter)
    in_training = {normalise(example) for example in training_examples()}
    files = questions_files if isinstance(questions_files, list) else [questions_files]
    for label, questions in ((label, q) for path in files for label, q in heldout(path).items()):
        for question in questions:
            predicted = predicted_label(await agent.parse_message(question))
            outcome = "correct" if predicted == label else "fallback" if predicted == "nlu_fallback" else "wrong"
            results[label][outcome] += 1
            if normalise(question) in in_training:  # written independently, but word for word a training example
                results[SEEN][outcome] += 1
            if show_errors and outcome != "correct":
                print(f"  {outcome:8} {label:26} -> {predicted:26} {question}")
    return results


def report(results: Dict[str, Counter]) -> float:
    print(f"{'label':28}{'n':>4}{'correct':>9}{'fallback':>9}{'wrong':>7}{'accuracy':>10}")
    totals: Counter = Counter()
    faq: Counter = Counter()
    seen = results.pop(SEEN, Counter())
    for label, counts in results.items():
        n = sum(counts.values())
        totals.update(counts)
        if label.startswith("faq/"):
            faq.update(counts)
        print(f"{label:28}{n:>4}{counts['correct']:>9}{counts['fallback']:>9}{counts['wrong']:>7}{counts['correct'] / n:>10.1%}")
    unseen = totals - seen
    for name, counts in (("FAQ topics", faq), ("overall", totals), ("overall, not in training", unseen)):
        n = sum(counts.values())
        print(f"{name:28}{n:>4}{counts['correct']:>9}{counts['fallback']:>9}{counts['wrong']:>7}{counts['correct'] / n:>10.1%}")
    return totals["correct"] / sum(totals.values())


def main() -> int:
    parser = argparse.ArgumentParser(description="Held-out accuracy per topic.")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--questions", type=Path, nargs="+", default=[HELDOUT],
                        help="one question file, or several to score pooled")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    leaked = leaked_questions()
    if leaked:
        print(f"These held-out questions are in the training data, remove them from one side: {leaked}")
        return 2
    model = args.model or PROJECT_ROOT / CURRENT_MODEL_FILE.read_text().strip()
    print(f"model: {model}\nquestions: {' + '.join(str(q) for q in args.questions)}")
    report(asyncio.run(score(model, args.questions, args.show_errors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
