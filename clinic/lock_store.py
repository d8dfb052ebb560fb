"""Rasa's conversation lock store, chosen by one setting: in memory for one server (the default), or
Redis (LOCK_STORE_URL) when several Rasa servers share the conversations."""
import os
from typing import Any, Optional
from urllib.parse import urlparse

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore

from clinic.settings import load

MUTEX_SECONDS = 5


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's RedisLockStore with its ticket bookkeeping made atomic. Rasa 3.6 issues and removes
    tickets by reading the lock from Redis, changing it and writing it back, so two servers taking a
    message for the same conversation at the same moment can both get "their turn" and one message
    is lost (measured: 1 of 12 in tests/test_scale_out.py). A short Redis mutex (redis-py's Lock,
    SET NX with expiry) around each read-change-write closes that window. That includes the clean-up
    of expired tickets every waiting message does each second: unguarded, it wrote back a ticket
    that had just been served, and every later message of the conversation then waited for that
    ticket to expire (60 s; seen in tests/test_scale_out.py once messages overlapped more)."""

    def _mutex(self, conversation_id: str) -> Any:
        return self.red.lock(f"{self.key_prefix}{conversation_id}:tickets", timeout=MUTEX_SECONDS,
                             blocking_timeout=MUTEX_SECONDS)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)


def lock_store_for(url: str) -> LockStore:
    if not url:
        # Rasa allows several Sanic workers for any lock store named in endpoints.yml, but workers do
        # not share an in-memory store: two messages of one visitor could then be handled at once.
        if int(os.environ.get("SANIC_WORKERS") or 1) > 1:
            raise ValueError("SANIC_WORKERS above 1 needs a shared lock store: set LOCK_STORE_URL=redis://...")
        return InMemoryLockStore()
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss"):
        raise ValueError("LOCK_STORE_URL must look like redis://host:6379/1")
    return AtomicRedisLockStore(
        host=parsed.hostname or "localhost",
        port=parsed.port or 6379,
        db=int(parsed.path.strip("/") or 1),
        username=parsed.username,
        password=parsed.password,
        use_ssl=parsed.scheme == "rediss",
    )


class ClinicLockStore(LockStore):
    """Named in endpoints.yml; Rasa builds it from there and gets the store LOCK_STORE_URL asks for."""

    def __new__(cls, endpoint_config: Optional[Any] = None, **kwargs: Any) -> LockStore:  # type: ignore[misc]
        return lock_store_for(load()["database"]["lock_store_url"].strip())
