"""Rasa's SQL tracker store, pointed at the product's single DATABASE_URL setting."""
from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from clinic.database import database_url


class ClinicTrackerStore(SQLTrackerStore):
    """Keeps conversations in the SQLite file or PostgreSQL database named by DATABASE_URL."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        # SQLTrackerStore accepts a full SQLAlchemy URL in `host`.
        super().__init__(domain=domain, host=host or database_url(), event_broker=event_broker, **kwargs)
