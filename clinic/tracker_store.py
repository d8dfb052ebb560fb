"""Rasa's SQL tracker store, pointed at the product's single DATABASE_URL setting, with the conversations
this server handled last kept in memory.

Rebuilding a conversation from the database (query, JSON, replaying every event) and counting its
stored events before each save cost about 14 ms of every message, a third of the server's time
(bench/latency.py, profiled). A conversation in the cache is checked against the database with one
indexed query (count and newest id of its events), so another server, the staff purge or any other
writer makes the copy stale and it is read again: the database stays the only source of truth.
"""
import json
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic import rasa_speedups, settings
from clinic.database import database_url, pooled_sqlite_engine, use_write_ahead_log
from clinic.safety import redact

# The Rasa server imports this module first among ours (endpoints.yml), so its speed fixes go here.
rasa_speedups.apply()

# (count of the conversation's rows, id of its newest row) in the database
Fingerprint = Tuple[int, Optional[int]]


class ClinicTrackerStore(SQLTrackerStore):
    """Keeps conversations in the SQLite file or PostgreSQL database named by DATABASE_URL, with card
    and social security numbers removed from visitors' messages before they are written."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        cached_conversations: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        # SQLTrackerStore accepts a full SQLAlchemy URL in `host`.
        super().__init__(domain=domain, host=host or database_url(), event_broker=event_broker, **kwargs)
        self.engine = pooled_sqlite_engine(self.engine)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        use_write_ahead_log(self.engine)
        self.cache_size = int(cached_conversations if cached_conversations is not None
                              else settings.load()["server"]["cached_conversations"] or 0)
        # sender id -> (tracker as last saved, how many of its events are stored, database fingerprint)
        self._cache: "OrderedDict[str, Tuple[DialogueStateTracker, int, Fingerprint]]" = OrderedDict()
        # trackers handed out by `retrieve` and not saved yet: sender id -> (tracker, stored events, fingerprint)
        # (bounded too: the HTTP API reads trackers it never saves)
        self._handed_out: "OrderedDict[str, Tuple[DialogueStateTracker, int, Fingerprint]]" = OrderedDict()
        # Built once: SQLAlchemy then reuses their compiled form instead of re-deriving it every message.
        events = self.SQLEvent.__table__
        self._fingerprint_query = sa.select(sa.func.count(events.c.id), sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id"))
        self._insert_event = events.insert()

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Optional[Domain]) -> None:
        # A new model may bring new slots: trackers built with the old domain's are dropped.
        self._domain = domain or Domain.empty()
        if hasattr(self, "_cache"):
            self._cache.clear()
            self._handed_out.clear()

    def _fingerprint(self, session: Any, sender_id: str) -> Fingerprint:
        row = session.execute(self._fingerprint_query, {"sender_id": sender_id}).one()
        return int(row[0]), row[1]

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The conversation's latest session. The cached tracker is handed out (and leaves the cache
        until it is saved), so a turn that fails half-way never leaves a half-updated copy behind."""
        cached = self._cache.pop(sender_id, None)
        with self.session_scope() as session:
            fingerprint = self._fingerprint(session, sender_id)
            if cached and cached[2] == fingerprint and len(cached[0].events) == cached[1]:
                self._keep(self._handed_out, sender_id, cached)
                return cached[0]
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._keep(self._handed_out, sender_id, (tracker, len(tracker.events), fingerprint))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        handed_out = self._handed_out.pop(sender_id, None)
        with self.session_scope() as session:
            # No need to look at the database for a tracker handed out by `retrieve`: the fingerprint
            # kept below is the one it had then plus these rows, so anything else written since makes
            # it stale and the next `retrieve` reads the conversation again.
            if handed_out and handed_out[0] is tracker:
                new_events = list(tracker.events)[handed_out[1]:]
                count, newest = handed_out[2]
            else:
                new_events = list(super()._additional_events(session, tracker))
                count, newest = self._fingerprint(session, sender_id)
            rows = [self._row(sender_id, event) for event in new_events]
            # Core inserts, not ORM objects (the unit of work cost ~0.6 ms a message); the last row on
            # its own, for its id.
            if len(rows) > 1:
                session.execute(self._insert_event, rows[:-1])
            if rows:
                newest = session.execute(self._insert_event, rows[-1]).inserted_primary_key[0]
                count += len(rows)
            session.commit()
        # After a new session starts, a tracker read from the database holds only the new session's
        # events, so this one (which still holds the old session) is not kept.
        if not any(isinstance(event, SessionStarted) for event in new_events):
            self._keep(self._cache, sender_id, (tracker, len(tracker.events), (count, newest)))

    def _keep(self, trackers: "OrderedDict[str, Any]", sender_id: str, entry: Any) -> None:
        """Adds entry as the newest, forgetting the oldest beyond the cache size."""
        if self.cache_size > 0:
            trackers[sender_id] = entry
            trackers.move_to_end(sender_id)
            while len(trackers) > self.cache_size:
                trackers.popitem(last=False)

    def _row(self, sender_id: str, event: Event) -> Dict[str, Any]:
        """The event's row in Rasa's `events` table, with card and social security numbers removed."""
        if isinstance(event, UserUttered) and event.text:
            event.text = redact(event.text)
            event.parse_data["text"] = event.text
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
