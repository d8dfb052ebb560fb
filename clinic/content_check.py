"""Checks the content staff edit (data/, domain.yml, sources/) and reports problems in plain words with
file and line, then runs Rasa's own check (its Validator, as `rasa data validate` does) and reports its
findings the same way. Lines come from ruamel.yaml, which keeps where each key and item was read.

    .venv/bin/python -m clinic.content_check [--data data] [--domain domain.yml] [--no-rasa]
    scripts/staff.sh check          # the same, for staff

Exit status 0 when the content is fine, 1 when a problem was found.
"""
import argparse
import logging
import os
import re
import sys
import warnings
from collections import defaultdict
from logging.handlers import BufferingHandler
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple
from unittest.mock import patch

import yaml
from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from clinic.nlu_data import examples_of, normalise
from clinic.settings import PROJECT_ROOT

MIN_EXAMPLES_PER_TOPIC = 25
RETRIEVAL_INTENT = "faq"
NOT_COVERED = "not covered in the clinic's articles"
SOURCE_LINE = re.compile(r"^Sources?:\s*(.+?)\s*$", re.MULTILINE)
# Intents every Rasa assistant has, which a "/intent" button may name without listing it in domain.yml.
RASA_DEFAULT_INTENTS = {"restart", "back", "out_of_scope", "session_start", "nlu_fallback"}
DATA_FILE_KEYS = {"version", "nlu", "responses", "rules", "stories"}
NLU_BLOCK_KEYS = {"intent", "examples", "metadata"}


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


def key_line(node: Any, key: Any) -> int:
    return node.lc.key(key)[0] + 1


def example_lines(block: Dict) -> Iterator[Tuple[int, str]]:
    """(line, text) of each line of a block's `examples: |`; a literal block keeps the file's lines."""
    text = str(block.get("examples") or "")
    if isinstance(block.get("examples"), LiteralScalarString):
        first = block.lc.value("examples")[0] + 2  # the line after the '|'
        return ((first + offset, line) for offset, line in enumerate(text.splitlines()))
    return ((key_line(block, "examples"), line) for line in text.splitlines())


def article_titles(articles_file: Path) -> List[str]:
    return [entry["title"] for entry in yaml.safe_load(articles_file.read_text(encoding="utf-8"))]


def default_domain(data_dir: Path) -> Path:
    """domain.yml beside the data folder (a project copy's own), else the project's."""
    beside = data_dir.parent / "domain.yml"
    return beside if beside.is_file() else PROJECT_ROOT / "domain.yml"


def yaml_problem(path: Path, lines: List[str], error: YAMLError) -> Problem:
    """A YAML error in plain words: what usually causes it, with the line shown."""
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark else 1
    problem = str(getattr(error, "problem", "") or error)
    shown = lines[line - 1].rstrip() if 0 < line <= len(lines) else ""
    quoted = f" Line {line} reads: \"{shown.strip()}\"." if shown.strip() else ""
    if "\t" in problem or "'\\t'" in problem or (shown and "\t" in shown[: len(shown) - len(shown.lstrip())]):
        advice = (f"line {line} starts with a tab character. Use spaces only at the start of lines "
                  "(most editors can be set to insert spaces for the Tab key).")
    elif "mapping values are not allowed" in problem:
        advice = (f"line {line} (or the one just above it) has a colon ':' where none is expected. Either the line "
                  "is indented differently from the lines around it, or it is a text containing ': ' that needs "
                  "quotes around it (\"like: this\").")
    elif any(clue in problem for clue in ("block end", "expected ':'", "expected key", "'-' indicator",
                                          "block sequence", "node content", "block mapping")):
        advice = (f"the spaces at the start of line {line} (or of the line just above it) do not line up with the "
                  "lines around it. In a topic file each example question starts with 4 spaces and '- ', and "
                  "the answer's lines with 6 spaces; copy the layout of another topic file.")
    elif "found unexpected end of stream" in problem or "found unexpected end" in problem:
        advice = f"a quote or bracket opened before line {line} is never closed."
    else:
        advice = f"there is a layout mistake at or just above line {line} ({problem})."
    return Problem(path, line, f"the file cannot be read: {advice}{quoted}")


def read_yaml(path: Path) -> Tuple[Optional[Any], List[Problem]]:
    """The file's content with its line information, or None and the problem in plain words. Read as
    Rasa reads it (YAML 1.2, round-trip: a key written twice is an error)."""
    text = path.read_text(encoding="utf-8")
    try:
        return YAML(typ="rt").load(text) or {}, []
    except YAMLError as error:
        return None, [yaml_problem(path, text.splitlines(), error)]


def domain_intents(domain: Any) -> Set[str]:
    names: Set[str] = set()
    for entry in (domain or {}).get("intents") or [] if isinstance(domain, dict) else []:
        names.update(entry.keys() if isinstance(entry, dict) else [str(entry)])
    return names


def misplaced_keys(path: Path, content: Dict) -> List[Problem]:
    """Top-level names that belong inside a block (usually a line that lost its indentation)."""
    return [Problem(path, key_line(content, key), f"'{key}:' starts at the very left of the line, so it is not part "
                                                  f"of the block above it; indent it like the same line in another "
                                                  f"file (for example '  examples: |' has 2 spaces)")
            for key in content if key not in DATA_FILE_KEYS]


def check_buttons(responses: List[Tuple[Path, Dict]], intents: Optional[Set[str]], topics: Set[str]) -> List[Problem]:
    """Buttons whose payload goes nowhere: empty, or "/intent" naming an intent domain.yml does not list."""
    problems: List[Problem] = []
    seen: Set[Tuple[Path, int]] = set()  # buttons reused through a YAML anchor are one place
    for path, named in responses:
        if not isinstance(named, dict):
            continue
        for name, variations in named.items():
            for variation in variations if isinstance(variations, list) else []:
                buttons = variation.get("buttons") if isinstance(variation, dict) else None
                for button in buttons if isinstance(buttons, list) else []:
                    if not isinstance(button, dict):
                        continue
                    title = str(button.get("title") or "").strip()
                    payload = str(button.get("payload") if button.get("payload") is not None else "").strip()
                    line = (key_line(button, "payload") if payload else key_line(button, "title") if title
                            else button.lc.line + 1)
                    problem = button_problem(name, title, payload, intents, topics)
                    if problem and (path, line) not in seen:
                        seen.add((path, line))
                        problems.append(Problem(path, line, problem))
    return problems


def button_problem(response: str, title: str, payload: str, intents: Optional[Set[str]], topics: Set[str]) -> Optional[str]:
    label = f"the button '{title}'" if title else "a button without a title"
    if not payload:
        return f"{label} in '{response}' has an empty payload, so tapping it sends nothing; give it the question to send"
    if not payload.startswith("/") or intents is None:
        return None
    intent = re.split(r"[{@]", payload[1:], maxsplit=1)[0].strip()
    if intent in intents or intent in RASA_DEFAULT_INTENTS:
        return None
    base, _, topic = intent.partition("/")
    if topic and base in intents and intent in topics:
        return None
    return (f"{label} in '{response}' sends '{payload}', but there is no intent '{intent}' in domain.yml, so the "
            f"button leads nowhere; fix the name after '/' (for example /request_contact) or send a question instead")


def check(data_dir: Path, articles_file: Path, domain_file: Optional[Path] = None) -> List[Problem]:
    problems: List[Problem] = []
    titles = article_titles(articles_file)
    examples: Dict[str, List[Tuple[str, Path, int]]] = defaultdict(list)  # normalised text -> where
    topic_examples: Dict[str, List[str]] = defaultdict(list)
    topic_place: Dict[str, Tuple[Path, int]] = {}
    answers: Dict[str, Tuple[Path, int, Optional[str]]] = {}

    domain_file = domain_file or default_domain(data_dir)
    domain, domain_problems = read_yaml(domain_file)
    problems += domain_problems
    known_intents = domain_intents(domain) if domain is not None else None
    responses: List[Tuple[Path, Dict]] = [(domain_file, (domain or {}).get("responses") or {})]

    for path in sorted(data_dir.rglob("*.yml")):
        content, read_problems = read_yaml(path)
        problems += read_problems
        if content is None:
            continue
        if not isinstance(content, dict):
            problems.append(Problem(path, 1, "the file does not have the expected layout (version:, nlu:, responses:); "
                                             "compare it with another topic file"))
            continue
        problems += misplaced_keys(path, content)
        responses.append((path, content.get("responses") or {}))
        for block in content.get("nlu") or []:
            intent = block.get("intent") if isinstance(block, dict) else None
            if not intent:
                continue
            topic_place.setdefault(intent, (path, block.lc.line + 1))
            topic_examples.setdefault(intent, [])
            for key in sorted(set(block) - NLU_BLOCK_KEYS):
                problems.append(Problem(path, key_line(block, key), f"'{key}:' is not a word expected in "
                                        f"the topic '{intent}': check its spelling (it is usually 'examples:')"))
            for line, text in example_lines(block):
                loose = text.strip()
                if loose and not loose.startswith("- "):
                    problems.append(Problem(path, line, f"the example question \"{loose}\" does not start with "
                                                        "'- ', so it is not read; write it as '- ' + the question"))
                for example in examples_of({"examples": text}):  # one line: its example, if it is one
                    examples[normalise(example)].append((intent, path, line))
                    topic_examples[intent].append(example)
        for name, variations in (content.get("responses") or {}).items():
            texts = [v.get("text") for v in variations or [] if isinstance(v, dict) and v.get("text")]
            answers[name] = (path, key_line(content["responses"], name), texts[0] if texts else None)

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
    problems += check_buttons(responses, known_intents, set(topic_examples))
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


# Rasa's findings that matter to staff, in plain words. {0}, {1} are the names Rasa quotes; the key and
# the quoted name tell where to look (a rule's '- intent: greeet' line).
RASA_FINDINGS = [
    (re.compile(r"There is a message in the training data labeled with intent '([^']+)'\. This intent is not listed"),
     "intent", "example questions are listed under '{0}', which is not an intent in domain.yml: fix the name "
               "(FAQ topics are written 'faq/<topic>') or add '{0}' to the intents list in domain.yml"),
    (re.compile(r"The intent '([^']+)' is used in your stories, but it is not listed in the domain file"),
     "intent", "a rule uses the intent '{0}', which is not in domain.yml's intents list"),
    (re.compile(r"The action '([^']+)' is used in the stories, but is not a valid utterance action"),
     "action", "a rule uses the reply '{0}', which does not exist: fix the name or add the reply under "
               "'responses:' in domain.yml"),
    (re.compile(r"The action '([^']+)' is used in the '([^']+)' block, but it is not listed in the domain file"),
     "action", "the rule '{1}' uses the action '{0}', which is not listed under 'actions:' in domain.yml"),
    (re.compile(r"The form '([^']+)' is used in the '([^']+)' block, but it is not listed"),
     "active_loop", "the rule '{1}' uses the form '{0}', which is not listed under 'forms:' in domain.yml"),
    (re.compile(r"The form slot '([^']+)' in form '([^']+)' is not present in the domain slots"),
     "required_slots", "the form '{1}' asks for '{0}', which is not listed under 'slots:' in domain.yml"),
]
# Said about every healthy project (intents set by code, form questions, several response files).
RASA_NOISE = re.compile(r"is not found in the NLU training data|is not used in any story or rule|"
                        r"duplicated intents have been found across multiple domain files|"
                        r"was found labeled with multiple different intents")  # our check says it with file and line


def scalar_places(node: Any, key: Any = None) -> Iterator[Tuple[int, Any, str]]:
    """(line, key, value) of every scalar in a round-trip document; a list's items carry the list's key."""
    pairs = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for name, child in pairs:
        if isinstance(child, (dict, list)):
            yield from scalar_places(child, name if isinstance(node, dict) else key)
        elif isinstance(node, dict):
            yield key_line(node, name), name, str(child)
        else:
            yield node.lc.item(name)[0] + 1, key, str(child)


def locate(keys: Set[str], name: str, files: List[Path]) -> Tuple[Path, int]:
    """The first file and line where `key: name` is written, or a list under `key` holds `name`."""
    for path in files:
        content, unreadable = read_yaml(path)
        for line, key, value in [] if unreadable else scalar_places(content):
            if key in keys and value == name:
                return path, line
    return files[-1], 1


def schema_message(message: str) -> str:
    unknown = re.match(r"Key '([^']+)' was not defined", message)
    if unknown:
        return (f"'{unknown.group(1)}:' is not a word Rasa expects here: check its spelling (for example 'intent:', "
                f"'examples:', 'text:', 'buttons:') and that the line is indented like the same line in another file")
    if re.search(r"is not a (list|dict|str)", message):
        return ("this entry is not in the expected form (a '- ' list item, a 'name: value' line, or a text); "
                f"compare it with the same part of another file (Rasa says: {message})")
    return f"Rasa cannot read this part of the file: {message}"


def rasa_findings(warned: List[str], logged: List[str], valid: bool, data_dir: Path, domain_file: Path) -> List[Problem]:
    """What Rasa's Validator warned and logged, as problems in plain words with the file and line."""
    files = [*sorted(data_dir.rglob("*.yml")), domain_file]
    problems: Dict[str, Problem] = {}  # one problem per message
    for said in warned:
        for pattern, key, message in RASA_FINDINGS:
            found = pattern.search(said)
            if found:
                text = message.format(*found.groups())
                problems.setdefault(text, Problem(*locate({key}, found.group(1), files), text))
                break
    for said in logged:  # story conflicts, errors
        if not RASA_NOISE.search(said):
            story = re.search(r"predicted in '([^']+)'", said)  # a conflict: where the first rule is
            path, line = locate({"rule", "story"}, story.group(1), files) if story else (domain_file, 1)
            text = "Rasa reports: " + " ".join(said.split())
            problems.setdefault(text, Problem(path, line, text))
    if not valid and not problems:
        unexplained = [said for said in warned if not RASA_NOISE.search(said)]
        problems[""] = Problem(domain_file, 1, "Rasa's own check failed: " + " ".join(unexplained)[-400:])
    return list(problems.values())


def rasa_validate(data_dir: Path, domain_file: Path, config_file: Path) -> List[Problem]:
    """Rasa's own check of the content, as `rasa data validate` runs it (rasa/cli/utils.py,
    validate_files), in this process; its findings in plain words."""
    # Rasa imports TensorFlow, whose start-up notes would fill the staff member's terminal.
    for name, value in (("TF_CPP_MIN_LOG_LEVEL", "2"), ("RASA_TELEMETRY_ENABLED", "false")):
        os.environ.setdefault(name, value)
    from rasa.shared.exceptions import RasaException
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.utils.validation import YamlValidationException
    from rasa.validator import Validator

    records, rasa_logger = BufferingHandler(capacity=10_000), logging.getLogger("rasa")
    records.setLevel(logging.WARNING)  # story conflicts; its progress notes are INFO
    rasa_logger.addHandler(records)
    try:
        # LOG_LEVEL: Rasa's progress bars stay off the staff member's terminal.
        with warnings.catch_warnings(record=True) as warned, patch.dict(os.environ, LOG_LEVEL="WARNING"):
            warnings.simplefilter("always")  # Rasa's findings are warnings, each said once per place otherwise
            importer = TrainingDataImporter.load_from_config(
                config_path=str(config_file), domain_path=str(domain_file), training_data_paths=[str(data_dir)])
            validator = Validator.from_importer(importer)
            if validator.domain.is_empty():
                said = " ".join(str(w.message) for w in warned)
                return [Problem(domain_file, 1, f"Rasa's own check failed: it read no domain. {said}"[:500])]
            checks = [validator.verify_domain_validity(), validator.verify_actions_in_stories_rules(),
                      validator.verify_forms_in_stories_rules(), validator.verify_form_slots(),
                      validator.verify_slot_mappings(), validator.verify_nlu(), validator.verify_story_structure()]
    except YamlValidationException as error:
        path = Path(error.filename) if error.filename else domain_file
        path = path if path.is_absolute() else PROJECT_ROOT / path
        # Rasa's own lines for its schema errors (from ruamel.yaml's line information), one message a line
        places = {error._line_number_for_path(error.content, entry.path) or 1: str(entry)
                  for entry in reversed(error.validation_errors or [])}
        return [Problem(path, line, schema_message(said)) for line, said in sorted(places.items())] or \
            [Problem(path, 1, f"Rasa cannot read this file: {error}")]
    except RasaException as error:
        return [Problem(domain_file, 1, f"Rasa reports: {type(error).__name__}: {error}")]
    finally:
        rasa_logger.removeHandler(records)
    logged = [record.getMessage() for record in records.buffer]
    return rasa_findings([str(w.message) for w in warned], logged, all(checks), data_dir, domain_file)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Check the assistant's content.")
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / "data")
    parser.add_argument("--articles", type=Path, default=PROJECT_ROOT / "sources" / "articles.yml")
    parser.add_argument("--domain", type=Path, help="default: domain.yml beside the data folder")
    parser.add_argument("--config", type=Path, help="default: config.yml beside the data folder")
    parser.add_argument("--no-rasa", action="store_true", help="skip Rasa's own check (about 15 s)")
    args = parser.parse_args(argv)
    domain = args.domain or default_domain(args.data)
    problems = check(args.data, args.articles, domain)
    readable = not any("cannot be read" in p.message for p in problems)
    if not args.no_rasa and readable:
        print("Running Rasa's own check (about 15 seconds)...", flush=True)
        config = args.config or (args.data.parent / "config.yml" if (args.data.parent / "config.yml").is_file()
                                 else PROJECT_ROOT / "config.yml")
        ours = list(problems)  # Rasa's findings at a place our checks already reported add nothing
        problems += [p for p in rasa_validate(args.data, domain, config)
                     if not any(q.path == p.path and abs(q.line - p.line) <= 1 for q in ours)]
    for problem in problems:
        print(problem)
    print("Content OK." if not problems else f"{len(problems)} problem(s) found.")
    if not args.no_rasa and not readable:
        print("Rasa's own check runs once every file can be read.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
