"""The content staff edit: checks pass on the real data and catch each kind of mistake."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from clinic.content_check import check, rasa_validate
from clinic.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "data"
ARTICLES = PROJECT_ROOT / "sources" / "articles.yml"
TOPICS = {
    "what_is", "how_it_works", "conditions", "mental_health", "acute_pain", "safety", "side_effects",
    "addiction", "duration", "onset", "number_of_infusions", "session", "candidacy", "vs_opioids",
    "alternatives", "cost_insurance", "location_hours",
}


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    shutil.copytree(DATA, tmp_path / "data")
    return tmp_path / "data"


def messages(data_dir: Path) -> str:
    return "\n".join(str(p) for p in check(data_dir, ARTICLES))



def edited(path: Path, old: str, new: str) -> Path:
    """Replaces the first `old` in a copied data file with `new` (a staff member's mistake)."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path

def test_real_content_has_no_problems() -> None:
    assert check(DATA, ARTICLES) == []


def test_the_product_topics_exist_one_file_each() -> None:
    """The 17 topics the product and its reports rely on; staff may add more, one file each."""
    files = {p.stem: p for p in (DATA / "faq").glob("*.yml")}
    assert TOPICS <= set(files), TOPICS - set(files)
    for topic, path in files.items():
        content = yaml.safe_load(path.read_text())
        assert [b["intent"] for b in content["nlu"]] == [f"faq/{topic}"]
        assert list(content["responses"]) == [f"utter_faq/{topic}"]


def test_answers_are_short_and_give_no_prices() -> None:
    for path in (DATA / "faq").glob("*.yml"):
        (answer,) = yaml.safe_load(path.read_text())["responses"].values()
        body = answer[0]["text"].rsplit("\nSource", 1)[0]
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", body) if s]
        assert 2 <= len(sentences) <= 5, (path.name, len(sentences))
        assert "$" not in body and "dollar" not in body.lower(), path.name


def test_articles_list_matches_the_shared_index() -> None:
    index = PROJECT_ROOT.parent / "shared" / "articles" / "INDEX.md"
    if not index.exists():
        pytest.skip("../shared/articles is not beside this checkout")
    text = index.read_text()
    for entry in yaml.safe_load(ARTICLES.read_text()):
        assert entry["file"] in text and entry["title"] in text, entry


def test_too_few_examples_is_reported(data_copy: Path) -> None:
    path = data_copy / "faq" / "onset.yml"
    content = path.read_text()
    lines = content.splitlines()
    kept = [l for i, l in enumerate(lines) if not (l.startswith("    - ") and i > 15)]
    path.write_text("\n".join(kept) + "\n")
    assert re.search(r"onset\.yml:\d+: topic 'faq/onset' has \d+ example questions; at least 25", messages(data_copy))


def test_example_under_two_topics_is_reported(data_copy: Path) -> None:
    for topic, wording in (("duration", "How long does it last?"), ("session", "how long does it last")):
        path = data_copy / "faq" / f"{topic}.yml"
        path.write_text(path.read_text().replace("  examples: |\n", f"  examples: |\n    - {wording}\n", 1))
    assert "listed under several topics (faq/duration, faq/session)" in messages(data_copy)


def test_topic_without_answer_is_reported(data_copy: Path) -> None:
    path = data_copy / "faq" / "acute_pain.yml"
    path.write_text(path.read_text().split("\nresponses:")[0] + "\n")
    assert "topic 'faq/acute_pain' has no answer" in messages(data_copy)


def test_answer_without_source_is_reported(data_copy: Path) -> None:
    path = data_copy / "faq" / "side_effects.yml"
    path.write_text(re.sub(r"\n\s+Sources?: .*", "", path.read_text()))
    assert "the answer 'utter_faq/side_effects' names no source" in messages(data_copy)


def test_answer_citing_an_unknown_article_is_reported(data_copy: Path) -> None:
    path = data_copy / "faq" / "safety.yml"
    path.write_text(re.sub(r"Sources?: .*", "Source: My Favourite Blog", path.read_text()))
    assert "cites an unknown article: My Favourite Blog" in messages(data_copy)


def test_broken_indentation_is_reported_with_its_line(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "session.yml", "responses:\n  utter_faq/session:", "responses:\n utter_faq/session:\n   - oops: [")
    assert re.search(r"session\.yml:\d+: the file cannot be read", messages(data_copy))


def test_broken_indentation_is_explained_in_plain_words(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "onset.yml", "    - how fast does it work\n", "  - how fast does it work\n")
    (problem,) = check(data_copy, ARTICLES)
    assert problem.path == path and problem.line == 7
    assert "the spaces at the start of line 7" in problem.message
    assert 'Line 7 reads: "- how fast does it work"' in problem.message
    assert "block end" not in problem.message  # no parser jargon


def test_tab_at_the_start_of_a_line_is_explained(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "onset.yml", "    - how fast does it work\n", "\t- how fast does it work\n")
    assert "onset.yml:7: the file cannot be read: line 7 starts with a tab character" in messages(data_copy)


def test_line_that_lost_its_indentation_is_reported(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "onset.yml", "  examples: |\n", "examples: |\n")
    found = messages(data_copy)
    assert "onset.yml:5: 'examples:' starts at the very left of the line" in found
    assert "topic 'faq/onset' has 0 example questions" in found


def test_misspelt_examples_key_is_reported(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "onset.yml", "  examples: |\n", "  exampels: |\n")
    assert "onset.yml:5: 'exampels:' is not a word expected in the topic 'faq/onset'" in messages(data_copy)


def test_example_without_dash_is_reported(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "onset.yml", "    - how fast does it work\n", "    how fast does it work\n")
    assert "onset.yml:7: the example question \"how fast does it work\" does not start with '- '" in messages(data_copy)


def test_button_to_an_unknown_intent_is_reported(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "cost_insurance.yml", "payload: /request_contact", "payload: /request_contcat")
    line = path.read_text().splitlines().index("      payload: /request_contcat") + 1
    assert (f"cost_insurance.yml:{line}: the button 'Yes, contact me' in 'utter_faq/cost_insurance' sends "
            "'/request_contcat', but there is no intent 'request_contcat' in domain.yml") in messages(data_copy)


def test_button_with_an_empty_payload_is_reported(data_copy: Path) -> None:
    path = edited(data_copy / "faq" / "candidacy.yml", "payload: /deny", 'payload: ""')
    assert "the button 'No thanks' in 'utter_faq/candidacy' has an empty payload, so tapping it sends nothing" \
        in messages(data_copy)


def test_button_in_the_domain_is_checked_too(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text((PROJECT_ROOT / "domain.yml").read_text().replace("payload: change the time", "payload: ' '", 1))
    found = "\n".join(str(p) for p in check(DATA, ARTICLES, domain))
    assert "the button 'Change time' in 'utter_ask_contact_confirmed' has an empty payload" in found


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """data/, domain.yml and config.yml in a temporary folder, for Rasa's own check."""
    shutil.copytree(DATA, tmp_path / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    return tmp_path


def test_rasa_findings_are_reported_in_plain_words_with_file_and_line(project_copy: Path) -> None:
    rules = project_copy / "data" / "rules.yml"
    rules.write_text(rules.read_text()
                     .replace("  - intent: greet\n  - action: utter_greet", "  - intent: greeet\n  - action: utter_greeet", 1)
                     .replace("  - action: utter_you_are_welcome", "  - action: action_say_thanks", 1))
    booking = project_copy / "data" / "booking.yml"
    booking.write_text(booking.read_text().replace("- intent: request_contact", "- intent: request_contactt", 1))
    problems = rasa_validate(project_copy / "data", project_copy / "domain.yml", project_copy / "config.yml")
    found = "\n".join(f"{p.path.name}:{p.line}: {p.message}" for p in problems)
    rule_lines = rules.read_text().splitlines()
    assert f"rules.yml:{rule_lines.index('  - intent: greeet') + 1}: a rule uses the intent 'greeet', which is not in " \
           "domain.yml's intents list" in found
    assert f"rules.yml:{rule_lines.index('  - action: utter_greeet') + 1}: a rule uses the reply 'utter_greeet', " \
           "which does not exist" in found
    assert "the rule 'thanks' uses the action 'action_say_thanks', which is not listed under 'actions:'" in found
    assert "booking.yml:5: example questions are listed under 'request_contactt', which is not an intent" in found
    assert len(problems) == 4, found


def test_rasa_finds_nothing_in_the_real_content() -> None:
    assert rasa_validate(DATA, PROJECT_ROOT / "domain.yml", PROJECT_ROOT / "config.yml") == []


def test_lines_come_from_the_yaml_not_from_searching_the_text(data_copy: Path) -> None:
    """'how fast' is also the start of line 7; the loose example is on line 8."""
    edited(data_copy / "faq" / "onset.yml", "    - how quickly does it kick in\n", "    how fast\n")
    assert "onset.yml:8: the example question \"how fast\" does not start with '- '" in messages(data_copy)


def test_a_story_conflict_is_reported_at_the_story_without_noise(project_copy: Path, capfd: pytest.CaptureFixture) -> None:
    stories = project_copy / "data" / "stories.yml"
    stories.write_text('version: "3.1"\nstories:\n'
                       '- story: greet then hello\n  steps:\n  - intent: greet\n  - action: utter_greet\n'
                       '- story: greet then bot\n  steps:\n  - intent: greet\n  - action: utter_iamabot\n')
    problems = rasa_validate(project_copy / "data", project_copy / "domain.yml", project_copy / "config.yml")
    found = "\n".join(f"{p.path.name}:{p.line}: {p.message}" for p in problems)
    assert "Rasa reports: Story structure conflict after intent 'greet':" in found and len(problems) == 1, found
    assert problems[0].path == stories and problems[0].line in (3, 7), found
    assert "Processed story blocks" not in capfd.readouterr().err  # Rasa's progress bar stays off the terminal
