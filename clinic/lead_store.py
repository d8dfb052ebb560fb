"""Contact requests ("leads") in the product's database (DATABASE_URL: the SQLite file by default,
PostgreSQL by URL). The table is created on first use."""
import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from clinic.database import database_url, use_write_ahead_log

# Notification states staff see in the lead list.
NOT_CONFIGURED, PENDING, SENT = "not configured", "pending", "sent"

metadata = sa.MetaData()
leads_table = sa.Table(
    "leads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # Same conversation + same details = same request: a repeated "yes" never makes a second row.
    sa.Column("request_key", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("email", sa.String(254)),
    sa.Column("preferred_time", sa.String(500)),
    sa.Column("reason", sa.String(1000)),
    sa.Column("handled_at", sa.DateTime(timezone=True)),
    sa.Column("notification", sa.String(32), nullable=False),
    sa.Column("notification_attempts", sa.Integer, nullable=False, default=0),
    # What went wrong last time (never contact details), for staff.
    sa.Column("notification_error", sa.String(500)),
)


@dataclass
class Lead:
    conversation_id: str
    name: str
    phone: Optional[str] = None
    email: Optional[str] = None
    preferred_time: Optional[str] = None
    reason: Optional[str] = None
    id: Optional[int] = None
    created_at: Optional[datetime] = None
    handled_at: Optional[datetime] = None
    notification: str = NOT_CONFIGURED
    notification_attempts: int = 0
    notification_error: Optional[str] = None
    request_key: str = field(default="")

    def __post_init__(self) -> None:
        if not self.request_key:
            details = [self.conversation_id, self.name, self.phone, self.email, self.preferred_time, self.reason]
            self.request_key = hashlib.sha256("\x1f".join(d or "" for d in details).encode()).hexdigest()

    @property
    def status(self) -> str:
        return "handled" if self.handled_at else "new"


def now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: Optional[datetime]) -> Optional[datetime]:
    """SQLite returns naive datetimes; every time we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


@lru_cache(maxsize=8)
def engine_for(url: str) -> sa.engine.Engine:
    engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    use_write_ahead_log(engine)
    metadata.create_all(engine)
    return engine


class LeadStore:
    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = engine_for(url or database_url())

    def add(self, lead: Lead) -> Lead:
        """Stores a lead once; storing the same request again returns the stored one."""
        row = {k: v for k, v in asdict(lead).items() if k not in ("id", "created_at")}
        try:
            with self.engine.begin() as connection:
                lead.id = connection.execute(
                    leads_table.insert().values(**row, created_at=now())
                ).inserted_primary_key[0]
        except IntegrityError:
            pass
        return self.by_key(lead.request_key)

    def by_key(self, request_key: str) -> Lead:
        return self._one(leads_table.c.request_key == request_key)

    def get(self, lead_id: int) -> Optional[Lead]:
        return self._one(leads_table.c.id == lead_id)

    def _one(self, condition: Any) -> Optional[Lead]:
        found = self.list(condition)
        return found[0] if found else None

    def list(self, condition: Any = None, include_handled: bool = True) -> List[Lead]:
        query = sa.select(leads_table).order_by(leads_table.c.id)
        if condition is not None:
            query = query.where(condition)
        if not include_handled:
            query = query.where(leads_table.c.handled_at.is_(None))
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [self._lead(row) for row in rows]

    @staticmethod
    def _lead(row: Dict[str, Any]) -> Lead:
        values = dict(row)
        for column in ("created_at", "handled_at"):
            values[column] = as_utc(values[column])
        return Lead(**values)

    def pending(self) -> List[Lead]:
        return self.list(leads_table.c.notification == PENDING)

    def claim_notification(self, lead: Lead) -> bool:
        """Counts one more attempt to notify staff of this pending lead, if no other process (another
        server's retry loop, the first try right after the form) has counted it since `lead` was read.
        Only the process that gets True sends, so staff are not told twice."""
        with self.engine.begin() as connection:
            return connection.execute(
                leads_table.update().where(
                    (leads_table.c.id == lead.id) & (leads_table.c.notification == PENDING)
                    & (leads_table.c.notification_attempts == lead.notification_attempts)
                ).values(notification_attempts=lead.notification_attempts + 1)
            ).rowcount == 1

    def record_notification(self, lead_id: int, state: str, error: Optional[str] = None) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                leads_table.update().where(leads_table.c.id == lead_id).values(
                    notification=state, notification_error=(error or None) and error[:500],
                )
            )

    def mark_handled(self, lead_id: int) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                leads_table.update().where(leads_table.c.id == lead_id).values(handled_at=now())
            )
        return result.rowcount > 0

    def delete_older_than(self, days: float) -> int:
        cutoff = now() - timedelta(days=days)
        with self.engine.begin() as connection:
            return connection.execute(leads_table.delete().where(leads_table.c.created_at < cutoff)).rowcount
