"""Conversations go to PostgreSQL when DATABASE_URL points there (one setting, nothing else)."""
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from clinic.serve import Assistant
from conftest import Visitor
from postgres import ensure_postgres


@pytest.fixture(scope="module")
def postgres_url() -> str:
    url = ensure_postgres()
    if url is None:
        pytest.skip("PostgreSQL could not be installed or started here (see the printed reason)")
    return url


def test_conversation_is_stored_in_postgres_and_survives_a_restart(postgres_url: str, tmp_path: Path) -> None:
    def start() -> Assistant:
        return Assistant(rasa_port=5305, action_port=5355, database=postgres_url, log_dir=tmp_path).start()

    assistant = start()
    try:
        visitor = Visitor(assistant, "postgres-visitor")
        visitor.say("is ketamine infusion addictive?")
        assert visitor.last_answer_action() == "utter_faq/addiction"
    finally:
        assistant.stop()
    with sa.create_engine(postgres_url).connect() as connection:
        texts = connection.execute(sa.text("select data from events where sender_id = 'postgres-visitor'")).scalars().all()
    assert any("is ketamine infusion addictive?" in text for text in texts)

    assistant = start()
    try:
        tracker = Visitor(assistant, "postgres-visitor").tracker()
        assert any(e.get("text") == "is ketamine infusion addictive?" for e in tracker["events"] if e["event"] == "user")
    finally:
        assistant.stop()
