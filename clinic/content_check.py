"""Checks the content staff edit (data/, sources/) and reports problems in plain words with file and line.

    .venv/bin/python -m clinic.content_check [--data data] [--articles sources/articles.yml]

Exit status 0 when the content is fine, 1 when a problem was found.
"""
import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from clinic.nlu_data import examples_of, normalise
from clinic.settings import PROJECT_ROOT

MIN_EXAMPLES_PER_TOPIC = 25
RETRIEVAL_INTENT = "faq"
NOT_COVERED = "not covered in the clinic's articles"
SOURCE_LINE = re.compile(r"^Sources?:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(PROJECT_ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.message}"


def line_of(lines: List[str], needle: str, start: int = 0) -> int:
    for number, line in enumerate(lines[start:], start=start + 1):
        if needle in line:
            return number
    return 1


def article_titles(articles_file: Path) -> List[str]:
    return [entry["title"] for entry in yaml.safe_load(articles_file.read_text(encoding="utf-8"))]


def check(data_dir: Path, articles_file: Path) -> List[Problem]:
    problems: List[Problem] = []
    titles = article_titles(articles_file)
    examples: Dict[str, List[Tuple[str, Path, int]]] = defaultdict(list)  # normalised text -> where
    topic_examples: Dict[str, List[str]] = defaultdict(list)
    topic_place: Dict[str, Tuple[Path, int]] = {}
    answers: Dict[str, Tuple[Path, int, Optional[str]]] = {}

    for path in sorted(data_dir.rglob("*.yml")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        try:
            content = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark else 1
            problems.append(Problem(path, line, f"the file cannot be read ({getattr(error, 'problem', error)}); "
                                                "check the indentation and the '- ' in front of each item"))
            continue
        for block in content.get("nlu") or []:
            intent = block.get("intent")
            if not intent:
                continue
            start = line_of(lines, f"intent: {intent}") - 1
            topic_place.setdefault(intent, (path, start + 1))
            for example in examples_of(block):
                line = line_of(lines, f"- {example}", start)
                examples[normalise(example)].append((intent, path, line))
                topic_examples[intent].append(example)
        for name, variations in (content.get("responses") or {}).items():
            line = line_of(lines, f"{name}:")
            texts = [v.get("text") for v in variations or [] if isinstance(v, dict) and v.get("text")]
            answers[name] = (path, line, texts[0] if texts else None)

    for intent, found in sorted(topic_examples.items()):
        if intent.startswith(f"{RETRIEVAL_INTENT}/") and len(found) < MIN_EXAMPLES_PER_TOPIC:
            path, line = topic_place[intent]
            problems.append(Problem(path, line, f"topic '{intent}' has {len(found)} example questions; "
                                                f"at least {MIN_EXAMPLES_PER_TOPIC} are needed"))
    for places in examples.values():
        intents = sorted({intent for intent, _, _ in places})
        if len(intents) > 1:
            intent, path, line = places[-1]
            problems.append(Problem(path, line, f"the example is listed under several topics ({', '.join(intents)}); "
                                                "keep it in one"))
    for intent in sorted(topic_examples):
        if intent.startswith(f"{RETRIEVAL_INTENT}/") and f"utter_{intent}" not in answers:
            path, line = topic_place[intent]
            problems.append(Problem(path, line, f"topic '{intent}' has no answer: add 'utter_{intent}' under responses"))
    for name, (path, line, text) in sorted(answers.items()):
        if not name.startswith(f"utter_{RETRIEVAL_INTENT}/"):
            continue
        if not text:
            problems.append(Problem(path, line, f"the answer '{name}' has no text"))
            continue
        if name[len("utter_"):] not in topic_examples:
            problems.append(Problem(path, line, f"the answer '{name}' has no example questions, so it is never given"))
        problems += check_source(path, line, name, text, titles)
    return problems


def check_source(path: Path, line: int, name: str, text: str, titles: List[str]) -> List[Problem]:
    cited = SOURCE_LINE.search(text)
    if not cited:
        return [Problem(path, line, f"the answer '{name}' names no source: end it with a line "
                                    f"'Source: <article title>' (titles in sources/articles.yml)")]
    named = cited.group(1).rstrip(".")
    if named == NOT_COVERED:
        return []
    unknown = [title for title in (t.strip() for t in named.split(";")) if title not in titles]
    if unknown:
        return [Problem(path, line, f"the answer '{name}' cites an unknown article: {'; '.join(unknown)}")]
    return []


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Check the assistant's content.")
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / "data")
    parser.add_argument("--articles", type=Path, default=PROJECT_ROOT / "sources" / "articles.yml")
    args = parser.parse_args(argv)
    problems = check(args.data, args.articles)
    for problem in problems:
        print(problem)
    print("Content OK." if not problems else f"{len(problems)} problem(s) found.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
