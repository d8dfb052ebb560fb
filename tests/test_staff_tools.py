"""Staff tools (scripts/staff.sh): the check command, retrain + reload without a restart + rollback on a
real running assistant, the unanswered-questions report on real REST conversations, and the quality
report's HTML."""
import base64
import csv
import json
import os
import re
import shutil
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
import requests

from clinic.serve import Assistant
from clinic.settings import PROJECT_ROOT
from clinic.staff import quality
from clinic.staff.models import Project
from clinic.staff.unanswered import (FALLBACK, OUT_OF_SCOPE, UNSURE, Group, Unanswered, clean_text, group_by_meaning,
                                     render_html, unanswered_messages, write_csv, write_report)
from conftest import Visitor

STAFF = PROJECT_ROOT / "scripts" / "staff.sh"
RELOAD_RASA_PORT, RELOAD_ACTION_PORT = 5705, 5755
# A 1x1 PNG, standing in for Rasa's confusion matrix pictures.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def staff(*args: str, env: Dict[str, str] = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(STAFF), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def make_project_copy(root: Path, data: bool = True) -> Path:
    """A project folder with copies of the content (data/, domain.yml, config.yml) and links to the code."""
    root.mkdir(parents=True, exist_ok=True)
    if data:
        shutil.copytree(PROJECT_ROOT / "data", root / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    for name in ("clinic", "requirements", "safety", "sources", ".venv"):
        (root / name).symlink_to(PROJECT_ROOT / name)
    return root


# --- the check command ---------------------------------------------------------------------------------------------

def test_check_command_passes_on_the_real_content() -> None:
    result = staff("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("Content OK.")


def test_check_command_reports_problems_with_file_and_line_and_fails(tmp_path: Path) -> None:
    project = make_project_copy(tmp_path / "project")
    topic = project / "data" / "faq" / "onset.yml"
    topic.write_text(topic.read_text().replace("    - how fast does it work\n", "  - how fast does it work\n", 1))
    rules = project / "data" / "rules.yml"
    rules.write_text(rules.read_text().replace("  - action: utter_goodbye", "  - action: utter_goodby", 1))
    result = staff("check", "--project", str(project))
    assert result.returncode == 1
    # An unreadable file stops Rasa's check (it would only repeat the problem); fixed, Rasa's findings show.
    assert "onset.yml:7: the file cannot be read: the spaces at the start of line 7" in result.stdout
    topic.write_text((PROJECT_ROOT / "data" / "faq" / "onset.yml").read_text())
    result = staff("check", "--project", str(project))
    assert result.returncode == 1
    assert re.search(r"rules\.yml:\d+: a rule uses the reply 'utter_goodby', which does not exist", result.stdout)
    assert "1 problem(s) found." in result.stdout


def test_retrain_refuses_content_with_problems(tmp_path: Path) -> None:
    project = make_project_copy(tmp_path / "project")
    topic = project / "data" / "faq" / "onset.yml"
    topic.write_text(re.sub(r"\n\s+Sources?: .*", "", topic.read_text()))
    result = staff("retrain", "--project", str(project), "--url", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "names no source" in result.stdout and "Nothing was trained" in result.stdout
    assert not (project / "models").exists()


# --- retrain, reload without restart, rollback ---------------------------------------------------------------------

NEW_TOPIC = """version: "3.1"
nlu:
- intent: faq/service_animals
  examples: |
{examples}
responses:
  utter_faq/service_animals:
  - text: |-
      The clinic's articles don't cover animals at appointments. Please call {{clinic_phone}} before your visit to ask.
      Source: not covered in the clinic's articles
"""
NEW_TOPIC_EXAMPLES = [
    "Can I bring my service dog to the infusion?", "can my service dog come with me", "are service animals allowed",
    "is my emotional support dog allowed in the room", "can i bring my guide dog", "do you allow dogs in the clinic",
    "my service animal goes everywhere with me, is that ok during the drip", "pets allowed at appointments?",
    "can my dog stay with me during treatment", "is a support animal ok in the infusion suite",
    "do you let service dogs into the treatment rooms", "can i bring my cat", "animals at the clinic allowed?",
    "guide dog policy", "service dog policy for infusions", "will my service dog be allowed to sit next to me",
    "can my therapy dog come to my session", "do you accept emotional support animals", "are pets welcome",
    "bringing a dog to my appointment", "my psychiatric service dog helps with ptsd, can it come",
    "is there a rule about animals in the infusion room", "can the dog wait with me in the recovery area",
    "do i need papers for my service dog", "service animal allowed during ketamine infusion?",
    "can i have my support dog on my lap during the infusion",
]


def rest_reply(url: str, sender: str, text: str) -> Tuple[List[Dict], float]:
    started = time.monotonic()
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=300)
    assert response.status_code == 200, response.text
    return response.json(), time.monotonic() - started


class Chatter(threading.Thread):
    """Keeps asking an FAQ question while the model is replaced, and records every reply."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopped, self.replies = url, threading.Event(), []  # (ok, seconds)

    def run(self) -> None:
        count = 0
        while not self.stopped.is_set():
            count += 1
            try:
                replies, seconds = rest_reply(self.url, f"chatter-{count}", "how long does the relief last?")
                self.replies.append(("Source" in " ".join(r.get("text", "") for r in replies), seconds))
            except (requests.RequestException, AssertionError):
                self.replies.append((False, 0.0))
            time.sleep(1.0)


def test_retrain_reloads_the_running_assistant_and_rollback_restores_it(tmp_path: Path) -> None:
    """The staff workflow on a copy of the project: change an answer and add a topic, retrain, and the
    running assistant (never restarted) gives the new answer and knows the new topic; rollback restores
    the old answer, and a restart keeps the rolled-back model until the content changes."""
    project = make_project_copy(tmp_path / "project")
    # Start from the model the real project uses, so only the changed content needs training.
    (project / "models").mkdir()
    seed = PROJECT_ROOT / Project().current_model()
    shutil.copy(seed, project / "models" / seed.name)
    Project(project).set_current_model(f"models/{seed.name}")

    server = Assistant(rasa_port=RELOAD_RASA_PORT, action_port=RELOAD_ACTION_PORT, model=project / "models" / seed.name,
                       database=f"sqlite:///{tmp_path / 'conversations.sqlite'}", log_dir=tmp_path / "logs")
    # The commands find the assistant through the settings; models are cached apart from the real ones,
    # so the changed content is trained every time (about a minute) and the shared cache is left alone.
    env = {"RASA_PORT": str(RELOAD_RASA_PORT), "CLINIC_CACHE_DIR": str(tmp_path / "cache")}
    # Training examples (the topics' first ones), so the answer does not depend on training luck: an unseen
    # question ("how soon after the infusion will i feel better") went to side_effects in one of two trainings.
    question, new_topic_question = "How soon will I start to feel relief?", NEW_TOPIC_EXAMPLES[0]
    try:
        server.start()
        rasa_process = server.processes[1]
        visitor = Visitor(server, "reload-visitor")
        (old_reply,) = visitor.say(question)
        assert visitor.last_answer_action() == "utter_faq/onset"
        visitor.say(new_topic_question)
        assert visitor.last_answer_action() != "utter_faq/service_animals"

        # Staff edit the answer's wording and add a topic: one new file, nothing in domain.yml.
        topic = project / "data" / "faq" / "onset.yml"
        text = topic.read_text()
        assert "Many people notice less pain" in text
        topic.write_text(text.replace("Many people notice less pain", "Reworded by staff: many people notice less pain", 1))
        (project / "data" / "faq" / "service_animals.yml").write_text(
            NEW_TOPIC.format(examples="\n".join(f"    - {e}" for e in NEW_TOPIC_EXAMPLES)))

        chatter = Chatter(server.url)
        chatter.start()
        started = time.monotonic()
        result = staff("retrain", "--project", str(project), env=env, timeout=3600)
        retrain_seconds = time.monotonic() - started
        chatter.stopped.set()
        chatter.join(timeout=60)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Content OK." in result.stdout and "training model" in result.stdout and "Loaded in" in result.stdout

        (new_reply,) = visitor.say(question)
        assert new_reply["text"].startswith("Reworded by staff: many people notice less pain")
        visitor.say(new_topic_question)
        assert visitor.last_answer_action() == "utter_faq/service_animals"
        assert rasa_process.poll() is None and server.processes[1] is rasa_process  # no restart
        # Visitors chatting during the reload were all answered (the slowest reply is shown on failure).
        assert chatter.replies and all(ok for ok, _ in chatter.replies), chatter.replies
        loaded = re.search(r"Loaded in \d+ s", result.stdout).group()
        print(f"retrain {retrain_seconds:.0f} s ({loaded}); {len(chatter.replies)} replies during it, slowest "
              f"{max(s for _, s in chatter.replies):.1f} s")

        new_model = Project(project).current_model()
        assert new_model != f"models/{seed.name}" and (project / new_model).is_file()
        assert [line.split()[1] for line in (project / "var" / "model-history").read_text().splitlines()] == \
               [f"models/{seed.name}", new_model]

        result = staff("rollback", "--project", str(project), env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        (rolled_back,) = visitor.say(question)
        assert rolled_back["text"] == old_reply["text"]
        visitor.say(new_topic_question)
        assert visitor.last_answer_action() != "utter_faq/service_animals"
        assert Project(project).current_model() == f"models/{seed.name}"
        assert rasa_process.poll() is None

        # A restart runs scripts/setup.sh, which keeps the rolled-back model while the content is unchanged.
        setup = subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "setup.sh"), "--model-only", str(project)],
                               capture_output=True, text=True, timeout=600, env={**os.environ, **env})
        assert setup.returncode == 0, setup.stderr
        assert Project(project).current_model() == f"models/{seed.name}"
        assert "rolled-back model" in setup.stderr

        # Nothing earlier to go back to; retrain (no training: the model exists) returns to the new content.
        assert "no earlier model" in staff("rollback", "--project", str(project), env=env).stderr
        started = time.monotonic()
        result = staff("retrain", "--project", str(project), "--no-check", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "training model" not in result.stdout and time.monotonic() - started < 300
        assert visitor.say(question)[0]["text"].startswith("Reworded by staff")
        assert Project(project).current_model() == new_model and not (project / "var" / "rollback").exists()
    finally:
        server.stop()


# --- the unanswered-questions report -------------------------------------------------------------------------------

ANSWERED = ["how long does the relief last?", "hello", "what side effects might i get from the infusion"]
OUT_OF_SCOPE_QUESTIONS = ["can you give me a recipe for chocolate cake"]
# Vague or off-centre questions: whichever of these the assistant could not answer must be reported.
UNCLEAR = ["how long", "is it good", "tell me more about the thing", "what about the other one",
           "do you take medicare", "do you accept medicare", "is medicare accepted"]


def bot_actions(visitor: Visitor) -> List[Tuple[str, List[str]]]:
    """(visitor text, utter_actions of the replies to it) for each visitor message, from Rasa's tracker."""
    turns: List[Tuple[str, List[str]]] = []
    for event in visitor.tracker()["events"]:
        if event["event"] == "user":
            turns.append((event.get("text") or "", []))
        elif event["event"] == "bot" and turns:
            turns[-1][1].append((event.get("metadata") or {}).get("utter_action") or "")
    return turns


def test_unanswered_report_lists_what_was_not_answered(assistant: Assistant, tmp_path: Path) -> None:
    tag = f"{os.getpid()}-{int(time.time())}"
    asker = Visitor(assistant, f"report-asker-{tag}")
    for text in ANSWERED + OUT_OF_SCOPE_QUESTIONS + UNCLEAR:
        asker.say(text)
    # Answers to the contact form (a name) and sensitive numbers are not content gaps: never listed.
    booker = Visitor(assistant, f"report-booker-{tag}")
    booker.say("book a consultation")
    booker.say("Zebulon Quaxley")
    booker.say("cancel")
    Visitor(assistant, f"report-card-{tag}").say("my card number is 4111 1111 1111 1111, can i pay now")

    truth = bot_actions(asker)
    unanswered = {text for text, actions in truth
                  if {"utter_ask_rephrase", "utter_out_of_scope"} & set(actions)}
    answered = {text for text, actions in truth if text not in unanswered}
    assert "can you give me a recipe for chocolate cake" in unanswered
    assert unanswered & set(UNCLEAR), truth  # at least one vague question fell back
    assert set(ANSWERED) <= answered

    result = staff("unanswered", "--days", "1", "--out", str(tmp_path), "--database", assistant.database)
    assert result.returncode == 0, result.stderr
    (csv_path,) = tmp_path.glob("unanswered-*.csv")
    (html_path,) = tmp_path.glob("unanswered-*.html")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    listed = {w.rsplit(" (x", 1)[0] for row in rows for w in row["all_wordings"].split(" | ")}
    assert unanswered <= listed, (unanswered, listed)
    assert not (answered - unanswered - set(UNCLEAR)) & listed  # clearly answered questions never appear
    everything = csv_path.read_text(encoding="utf-8") + html_path.read_text(encoding="utf-8")
    assert "Zebulon" not in everything and "4111" not in everything and "card number" not in everything
    cake = next(row for row in rows if "chocolate cake" in row["all_wordings"])
    assert "out-of-scope reply" in cake["why"] and cake["add_examples_to"].startswith("data/faq/")
    page = html_path.read_text(encoding="utf-8")
    assert "Most common gaps" in page and "chocolate cake" in page

    # The medicare wordings, if they were not answered, are one group.
    medicare = [row for row in rows if "medicare" in row["all_wordings"]]
    assert len(medicare) <= 1

    # A period without these conversations lists none of them.
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert not [m for m in unanswered_messages(later, later + timedelta(hours=1), assistant.database)]


class Tags(HTMLParser):
    """The real tags of a page (escaped text is not a tag) and their attributes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: List[Tuple[str, Dict[str, str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str]]) -> None:
        self.found.append((tag, dict(attrs)))


def assert_self_contained(page: str) -> List[Tuple[str, Dict[str, str]]]:
    tags = Tags(page).found
    names = {tag for tag, _ in tags}
    assert not names & {"script", "link", "iframe", "object", "embed"}, names
    for tag, attributes in tags:
        assert not any(k.startswith("on") for k in attributes), (tag, attributes)
        for key in ("src", "href"):
            assert not attributes.get(key) or attributes[key].startswith("data:image/png;base64,"), (tag, attributes)
    return tags


def message(text: str, reason: str = FALLBACK, topic: str = "faq/cost_insurance", sender: str = "v1",
            confidence: float = 0.3) -> Unanswered:
    return Unanswered(sender, datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc), text, reason, topic, confidence)


def test_similar_questions_are_grouped_with_counts_and_closest_topic() -> None:
    groups = group_by_meaning([
        message("do you take medicare", sender="a"), message("Do you take Medicare?", sender="b"),
        message("do you accept medicare", sender="b", reason=UNSURE), message("is medicare accepted", sender="c"),
        message("what is the weather on mars", reason=OUT_OF_SCOPE, topic="faq/location_hours", sender="d"),
    ])
    assert [g.count for g in groups] == [4, 1]
    medicare, mars = groups
    assert medicare.visitors == 3 and medicare.example == "do you take medicare"
    assert medicare.topic == "faq/cost_insurance" and medicare.reasons[UNSURE] == 1
    assert mars.example == "what is the weather on mars"


def test_report_text_never_shows_numbers_emails_or_invisible_characters() -> None:
    text = clean_text("card 4111 1111 1111 1111, mail me at ana@example.com or 555-234-5678 \u202eevil\u202c")
    assert "4111" not in text and "ana@example.com" not in text and "234-5678" not in text
    assert "[email removed]" in text and "\u202e" not in text
    assert clean_text("is it 2 or 3 infusions") == "is it 2 or 3 infusions"


@pytest.mark.parametrize("typed", ["ana.lopez@example.com", "first.last+clinic@mail.example.co.uk", "555-234-5678",
                                   "(555) 876-5432", "+44 20 7946 0958", "+52 55 1234 5678", "0044 20 7946 0958"])
def test_report_removes_what_the_contact_form_takes_as_an_email_or_a_phone_number(typed: str) -> None:
    from actions.contact_details import find_contact_details  # the same patterns (clinic/text_patterns.py)

    phone, email = find_contact_details(typed)
    assert phone or email
    removed = "[email removed]" if email else "[number removed]"
    assert clean_text(f"reach me at {typed} please") == f"reach me at {removed} please"


def test_report_removes_every_character_the_channels_remove() -> None:
    from clinic.text_patterns import UNSTORABLE

    hostile = "a\x00b\u202ec\u202cd\u2066e\u2069f\u200bg\ufeffh\x07i"
    assert UNSTORABLE.sub("", hostile) == "abcdef\u200bg\ufeffh\x07i"  # what conversations store
    assert clean_text(hostile) == "abcdefghi"                           # what staff see


def test_html_escapes_visitor_text_and_is_self_contained(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script><img src=https://evil.example/x.png onerror=alert(1)>'
    groups = [Group([message(hostile)], np.ones(3) / np.sqrt(3)), Group([message("do you take medicare")], np.ones(3))]
    page = render_html(groups, datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 25, tzinfo=timezone.utc),
                       PROJECT_ROOT / "data" / "faq")
    tags = assert_self_contained(page)  # nothing runs, nothing is fetched from elsewhere
    assert "img" not in {tag for tag, _ in tags}
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "default-src 'none'" in page
    assert page.count('class="bar"') == 2 and "data/faq/cost_insurance.yml" in page


def test_csv_cells_cannot_become_spreadsheet_formulas(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    write_csv([Group([message("=HYPERLINK(\"http://evil.example\")")], np.ones(3))], path, PROJECT_ROOT / "data" / "faq")
    (row,) = csv.DictReader(path.open(encoding="utf-8"))
    assert row["example"].startswith("'=") and row["add_examples_to"] == "data/faq/cost_insurance.yml"


def test_empty_period_gives_an_empty_report(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    csv_path, html_path, groups = write_report(tmp_path, start, start + timedelta(days=1), database=database)
    assert groups == [] and "Nothing to report" in html_path.read_text()
    assert csv_path.read_text().startswith("rank,times_asked,visitors,example,closest_topic,add_examples_to")


# --- the quality report --------------------------------------------------------------------------------------------

def fake_results(folder: Path) -> Path:
    """A results folder as `rasa test nlu --cross-validation` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / quality.TOPIC_REPORT).write_text(json.dumps({
        "faq/onset": {"precision": 0.97, "recall": 0.90, "f1-score": 0.93, "support": 100,
                      "confused_with": {"faq/duration": 8, "faq/session": 2}},
        "faq/duration": {"precision": 0.80, "recall": 0.96, "f1-score": 0.87, "support": 50,
                         "confused_with": {"faq/onset": 2}},
        "faq/session": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 30},
        "accuracy": 0.935, "macro avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.9, "support": 180},
        "weighted avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.9, "support": 180},
    }))
    (folder / quality.TOPIC_ERRORS).write_text(json.dumps([
        {"text": "how long <b>does</b> it stick", "intent_response_key_target": "faq/duration",
         "intent_response_key_prediction": {"name": "faq/onset", "confidence": 0.91}},
    ]))
    (folder / quality.INTENT_REPORT).write_text(json.dumps({
        "faq": {"precision": 0.99, "recall": 0.98, "f1-score": 0.985, "support": 180},
        "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 20}, "accuracy": 0.99,
    }))
    (folder / quality.TOPIC_MATRIX).write_bytes(PNG)
    (folder / quality.INTENT_MATRIX).write_bytes(PNG)
    return folder


def test_quality_report_html_from_a_results_folder(tmp_path: Path) -> None:
    html_file = quality.build_report(fake_results(tmp_path / "results"), tmp_path / "quality.html", folds=3)
    page = html_file.read_text()
    assert "3-fold cross-validation" in page and "93.5%" in page and "of 180 example questions" in page
    rows = re.findall(r"<tr><td>(faq/\w+)</td>", page)
    assert rows == ["faq/duration", "faq/onset", "faq/session"]  # weakest first
    assert "faq/duration (8), faq/session (2)" in page  # what onset is mixed up with
    assert "Weakest: faq/duration" not in page  # 0.87 is not below 0.85
    assert page.count("data:image/png;base64," + base64.b64encode(PNG).decode()) == 2
    assert "how long &lt;b&gt;does&lt;/b&gt; it stick" in page and "<b>does</b>" not in page
    assert_self_contained(page)


def test_quality_report_escapes_what_the_data_and_visitors_wrote(tmp_path: Path) -> None:
    """Example questions are visitors' words and topic names are staff's: the template escapes them all."""
    folder = fake_results(tmp_path / "results")
    report = json.loads((folder / quality.TOPIC_REPORT).read_text())
    report["faq/<script>alert(1)</script>"] = {"precision": 0.5, "recall": 0.2, "f1-score": 0.3, "support": 7,
                                               "confused_with": {"faq/<img src=x onerror=alert(2)>": 3}}
    (folder / quality.TOPIC_REPORT).write_text(json.dumps(report))
    (folder / quality.TOPIC_ERRORS).write_text(json.dumps([
        {"text": "<script>alert('x')</script> & \"more\"", "intent_response_key_target": "faq/<b>duration</b>",
         "intent_response_key_prediction": {"name": "faq/<i>onset</i>", "confidence": 0.5}}]))
    page = quality.render(folder, folds=3)
    assert "<script" not in page and "<img src=x" not in page and "<b>duration" not in page and "<i>onset" not in page
    assert "<td>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;more&quot;</td>" in page
    assert "<tr><td>faq/&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert "Weakest: faq/&lt;script&gt;alert(1)&lt;/script&gt;." in page
    assert "faq/&lt;img src=x onerror=alert(2)&gt; (3)" in page
    assert_self_contained(page)


def test_quality_report_without_results_says_so(tmp_path: Path) -> None:
    result = staff("quality", "--from-results", str(tmp_path), "--out", str(tmp_path))
    assert result.returncode == 1 and "is it a cross-validation results folder?" in result.stderr


def test_quality_command_runs_cross_validation_on_a_small_project(tmp_path: Path) -> None:
    """The real `rasa test nlu --cross-validation` on two topics and some off-topic questions, 2 folds
    (about 2 minutes on 2 cores; the real data with 3 folds takes far longer, so it is not run here)."""
    project = make_project_copy(tmp_path / "project", data=False)
    (project / "data" / "faq").mkdir(parents=True)
    for name in ("faq/onset.yml", "faq/duration.yml", "out_of_scope.yml"):
        shutil.copy(PROJECT_ROOT / "data" / name, project / "data" / name)
    result = staff("quality", "--project", str(project), "--folds", "2", "--out", str(tmp_path / "reports"),
                   timeout=1800)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    page = (tmp_path / "reports" / "quality.html").read_text()
    assert {"faq/onset", "faq/duration"} <= set(re.findall(r"<tr><td>(faq/\w+)</td>", page))
    assert page.count("data:image/png;base64,") == 2  # the topic and the message-kind confusion matrices
