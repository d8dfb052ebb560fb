"""The tracker store's in-memory copies of conversations never hide what is in the database: another
server's messages, a turn that failed half-way, the staff purge, a new session."""
import asyncio
import time
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.leads import delete_conversations_older_than
from clinic.tracker_store import ClinicTrackerStore

DOMAIN = Domain.from_dict({"intents": ["faq"], "slots": {"name": {"type": "text", "mappings": [{"type": "custom"}]}}})


def store_on(database: Path, **kwargs) -> ClinicTrackerStore:
    return ClinicTrackerStore(domain=DOMAIN, host=f"sqlite:///{database}", **kwargs)


def run(coroutine):
    return asyncio.run(coroutine)


def texts(tracker) -> list:
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


def new_conversation(store: ClinicTrackerStore, sender: str) -> None:
    tracker = run(store.get_or_create_tracker(sender))
    tracker.update(UserUttered("is it safe?"))
    tracker.update(BotUttered("It is given under supervision."))
    run(store.save(tracker))


def test_a_message_handled_by_another_server_is_seen(tmp_path: Path) -> None:
    this_server, other_server = store_on(tmp_path / "db.sqlite"), store_on(tmp_path / "db.sqlite")
    new_conversation(this_server, "visitor")
    tracker = run(other_server.retrieve("visitor"))
    tracker.update(UserUttered("how long does it last?"))
    run(other_server.save(tracker))
    assert texts(run(this_server.retrieve("visitor")))[-1] == "how long does it last?"


def test_a_turn_that_failed_before_saving_leaves_no_trace(tmp_path: Path) -> None:
    store = store_on(tmp_path / "db.sqlite")
    new_conversation(store, "visitor")
    half_done = run(store.retrieve("visitor"))
    half_done.update(UserUttered("this turn crashes"))  # and is never saved
    assert "this turn crashes" not in texts(run(store.retrieve("visitor")))


def test_later_changes_to_a_saved_tracker_are_not_served(tmp_path: Path) -> None:
    store = store_on(tmp_path / "db.sqlite")
    new_conversation(store, "visitor")
    tracker = run(store.retrieve("visitor"))
    tracker.update(SlotSet("name", "Ann"))
    run(store.save(tracker))
    tracker.update(SlotSet("name", "changed after saving"))
    assert run(store.retrieve("visitor")).get_slot("name") == "Ann"


def test_each_turn_is_stored_once_and_in_order(tmp_path: Path) -> None:
    store = store_on(tmp_path / "db.sqlite")
    new_conversation(store, "visitor")
    for n in range(3):
        tracker = run(store.retrieve("visitor"))
        tracker.update(UserUttered(f"question {n}"))
        tracker.update(ActionExecuted("action_listen"))
        run(store.save(tracker))
    from_database = run(store_on(tmp_path / "db.sqlite").retrieve("visitor"))
    assert texts(from_database) == ["is it safe?", "It is given under supervision.", "question 0", "question 1", "question 2"]
    assert [e.as_dict() for e in from_database.events] == [e.as_dict() for e in run(store.retrieve("visitor")).events]


def test_a_purged_conversation_is_gone(tmp_path: Path, monkeypatch) -> None:
    database = tmp_path / "db.sqlite"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    store = store_on(database)
    old = DialogueStateTracker("old-visitor", DOMAIN.slots)
    old.update(UserUttered("is it safe?", timestamp=time.time() - 90 * 86400))
    run(store.save(old))
    assert run(store.retrieve("old-visitor")) is old  # served from memory
    run(store.save(old))
    assert delete_conversations_older_than(30) == 1
    assert run(store.retrieve("old-visitor")) is None


def test_a_new_session_is_read_back_as_the_database_has_it(tmp_path: Path) -> None:
    store = store_on(tmp_path / "db.sqlite")
    new_conversation(store, "visitor")
    tracker = run(store.retrieve("visitor"))
    tracker.update(SessionStarted())
    tracker.update(UserUttered("back again"))
    run(store.save(tracker))
    assert texts(run(store.retrieve("visitor"))) == texts(run(store_on(tmp_path / "db.sqlite").retrieve("visitor")))
    assert texts(run(store.retrieve("visitor"))) == ["back again"]


def test_the_cache_holds_at_most_its_size(tmp_path: Path) -> None:
    store = store_on(tmp_path / "db.sqlite", cached_conversations=3)
    for n in range(10):
        new_conversation(store, f"visitor-{n}")
    assert list(store._cache) == ["visitor-7", "visitor-8", "visitor-9"]


def test_the_cache_size_is_a_setting_and_zero_turns_it_off(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CACHED_CONVERSATIONS", "0")
    store = store_on(tmp_path / "db.sqlite")
    new_conversation(store, "visitor")
    tracker = run(store.retrieve("visitor"))
    assert not store._cache and tracker is not None and texts(tracker)[0] == "is it safe?"


def test_trackers_read_and_never_saved_are_not_kept_forever(tmp_path: Path) -> None:
    """The HTTP API reads trackers without saving them."""
    store = store_on(tmp_path / "db.sqlite", cached_conversations=3)
    for n in range(10):
        new_conversation(store, f"visitor-{n}")
    for n in range(10):
        assert run(store.retrieve(f"visitor-{n}")) is not None
    assert len(store._handed_out) == 3


class CollectingBroker:
    """Stands in for a message broker (Kafka, RabbitMQ): keeps what the store publishes."""

    def __init__(self) -> None:
        self.published: list = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def test_an_event_broker_gets_each_new_event_once(tmp_path: Path) -> None:
    broker = CollectingBroker()
    store = store_on(tmp_path / "db.sqlite", event_broker=broker)
    new_conversation(store, "visitor")
    for question in ("how long does it last?", "how many infusions?"):
        tracker = run(store.retrieve("visitor"))  # from memory after the first turn
        tracker.update(UserUttered(question))
        run(store.save(tracker))
    said = [e.get("text") for e in broker.published if e.get("event") == "user"]
    assert said == ["is it safe?", "how long does it last?", "how many infusions?"]
