"""Where conversations (and later leads) are stored: one URL, SQLite file by default."""
from typing import Any, Dict, Optional

import sqlalchemy as sa

from clinic.settings import PROJECT_ROOT, load

SQLITE_PREFIX = "sqlite:///"


def database_url(settings: Optional[Dict[str, Dict[str, Any]]] = None) -> str:
    """DATABASE_URL with a relative SQLite path anchored at the project root (so cwd never matters)."""
    url = (settings or load())["database"]["url"].strip()
    if url.startswith("postgres://"):  # Heroku-style scheme that SQLAlchemy 1.4 no longer accepts
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith(SQLITE_PREFIX) and not url.startswith(SQLITE_PREFIX + "/"):
        path = PROJECT_ROOT / url[len(SQLITE_PREFIX):]
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"{SQLITE_PREFIX}{path}"
    return url


def is_sqlite_file(engine: sa.engine.Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def use_write_ahead_log(engine: sa.engine.Engine) -> None:
    """Puts a SQLite file in write-ahead-log mode (kept in the file): readers (staff tools, the lead
    store in the action server) no longer wait for the assistant's writes, and each message's commit
    costs one sync instead of two. No effect on PostgreSQL."""
    if is_sqlite_file(engine):
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")


def pooled_sqlite_engine(engine: sa.engine.Engine) -> sa.engine.Engine:
    """The same SQLite file with its connections kept open between uses (SQLAlchemy 1.4 opens and
    closes one per session for a file; that was about 1 ms of every message). Other engines as given."""
    if not is_sqlite_file(engine):
        return engine
    engine.dispose()
    return sa.create_engine(engine.url, poolclass=sa.pool.QueuePool, pool_size=2,
                            connect_args={"check_same_thread": False})
