"""The content staff edit: checks pass on the real data and catch each kind of mistake."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from clinic.content_check import check
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


def test_real_content_has_no_problems() -> None:
    assert check(DATA, ARTICLES) == []


def test_exactly_the_product_topics_exist_one_file_each() -> None:
    assert {p.stem for p in (DATA / "faq").glob("*.yml")} == TOPICS
    for topic in TOPICS:
        content = yaml.safe_load((DATA / "faq" / f"{topic}.yml").read_text())
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
    path = data_copy / "faq" / "session.yml"
    path.write_text(path.read_text().replace("responses:\n  utter_faq/session:", "responses:\n utter_faq/session:\n   - oops: [", 1))
    assert re.search(r"session\.yml:\d+: the file cannot be read", messages(data_copy))
