"""Two Rasa servers sharing one PostgreSQL tracker store and one Redis lock store (Rasa's own engines,
as in a production deployment behind a load balancer): one conversation whose messages alternate
between them, and bursts of simultaneous messages, stay consistent."""
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, List, Tuple
from unittest.mock import patch

import pytest
import requests
from rasa.core.lock import TicketLock

from clinic.lead_store import LeadStore
from clinic.lock_store import lock_store_for
from clinic.serve import Assistant
from conftest import Visitor, texts
from postgres import ensure_postgres
from redis_server import running_redis


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Assistant, Assistant]]:
    workdir = tmp_path_factory.mktemp("scale-out")
    database = ensure_postgres()
    if database is None:
        pytest.skip("PostgreSQL could not be installed or started here (see the printed reason)")
    with running_redis(workdir) as lock_store_url:
        if lock_store_url is None:
            pytest.skip("Redis could not be installed or started here (see the printed reason)")
        env = {"LOCK_STORE_URL": lock_store_url}
        first = Assistant(rasa_port=5905, action_port=5955, database=database, log_dir=workdir / "a", extra_env=env)
        second = Assistant(rasa_port=5906, action_port=5956, database=database, log_dir=workdir / "b", extra_env=env)
        with first, second:
            yield first, second


def test_a_conversation_alternating_between_servers_stays_consistent(two_servers: Tuple[Assistant, Assistant]) -> None:
    first, second = (Visitor(server, "scale-out-form") for server in two_servers)
    assert "full name" in texts(first.say("I'd like to book a consultation"))
    assert "phone number or email" in texts(second.say("Ana Lopez"))
    assert "good time" in texts(first.say("ana@example.com"))
    assert "What would you like to talk about" in texts(second.say("weekday mornings"))
    assert "Do you agree" in texts(first.say("skip"))
    assert "Is this right?" in texts(second.say("yes"))
    assert "Thank you, Ana Lopez" in texts(first.say("yes, send it"))
    assert first.tracker()["events"] == second.tracker()["events"]
    leads = [lead for lead in LeadStore(two_servers[0].database).list() if lead.conversation_id == "scale-out-form"]
    assert [(lead.name, lead.email) for lead in leads] == [("Ana Lopez", "ana@example.com")]


def test_simultaneous_messages_to_both_servers_are_handled_one_at_a_time(two_servers: Tuple[Assistant, Assistant]) -> None:
    questions = ["is it safe?", "is it addictive?", "how long does it last?", "what are the side effects?"] * 3

    def ask(numbered: Tuple[int, str]) -> List[dict]:
        index, text = numbered
        server = two_servers[index % 2]
        response = requests.post(f"{server.url}/webhooks/rest/webhook",
                                 json={"sender": "scale-out-burst", "message": text}, timeout=120)
        assert response.status_code == 200
        return response.json()

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        replies = list(pool.map(ask, enumerate(questions)))
    assert all(reply and "Source" in reply[0]["text"] for reply in replies)
    events = Visitor(two_servers[1], "scale-out-burst").tracker()["events"]
    said = [e["event"] for e in events if e["event"] in ("user", "bot")]
    # Every message is stored, each followed by its own answer: no update was lost or interleaved.
    assert said.count("user") == len(questions)
    assert said == ["user", "bot"] * len(questions)


def test_a_waiting_message_never_brings_back_a_served_ticket(tmp_path: Path) -> None:
    """A message waiting for its turn cleans up expired tickets while the one being served finishes:
    the finished ticket must stay gone, or the conversation stalls until it expires."""
    with running_redis(tmp_path) as url:
        if url is None:
            pytest.skip("Redis could not be installed or started here (see the printed reason)")
        store = lock_store_for(url)
        served, waiting = store.issue_ticket("race", 60), store.issue_ticket("race", 60)
        read_the_lock, served_ticket_cleaned = threading.Event(), threading.Event()
        original_remove = TicketLock.remove_expired_tickets

        def slow_remove(lock: TicketLock) -> None:  # the waiting message pauses after reading the lock
            if threading.current_thread() is threading.main_thread() and not read_the_lock.is_set():
                read_the_lock.set()
                served_ticket_cleaned.wait(timeout=2)
            original_remove(lock)

        def finish_serving() -> None:
            read_the_lock.wait(timeout=5)
            store.cleanup("race", served)
            served_ticket_cleaned.set()

        finisher = threading.Thread(target=finish_serving)
        finisher.start()
        with patch.object(TicketLock, "remove_expired_tickets", slow_remove):
            store.update_lock("race")
        finisher.join()
        lock = store.get_lock("race")
        assert [t.number for t in lock.tickets] == [waiting]
        assert not lock.is_locked(waiting)
