"""Rasa's SQL tracker store, pointed at the product's single DATABASE_URL setting."""
from typing import Any, Iterator, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic import rasa_speedups
from clinic.database import database_url, use_write_ahead_log
from clinic.safety import redact

# The Rasa server imports this module first among ours (endpoints.yml), so its speed fixes go here.
rasa_speedups.apply()


class ClinicTrackerStore(SQLTrackerStore):
    """Keeps conversations in the SQLite file or PostgreSQL database named by DATABASE_URL, with card
    and social security numbers removed from visitors' messages before they are written."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        # SQLTrackerStore accepts a full SQLAlchemy URL in `host`.
        super().__init__(domain=domain, host=host or database_url(), event_broker=event_broker, **kwargs)
        use_write_ahead_log(self.engine)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        for event in super()._additional_events(session, tracker):
            if isinstance(event, UserUttered) and event.text:
                event.text = redact(event.text)
                event.parse_data["text"] = event.text
            yield event
