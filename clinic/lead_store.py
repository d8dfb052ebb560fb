"""Contact requests ("leads") in the product's database (DATABASE_URL: the SQLite file by default,
PostgreSQL by URL). The table is created on first use, and brought up to date on start."""
import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from clinic.database import database_url, use_write_ahead_log

# Notification states staff see in the lead list: overall, and for each channel ("failed" is
# retried like "pending"; it says an attempt was made and went wrong).
NOT_CONFIGURED, PENDING, FAILED, SENT = "not configured", "pending", "failed", "sent"
CHANNELS = ("email", "webhook")
# A process that claimed a channel and then died leaves the claim behind; after this long another
# process may send it. Far longer than one send can take (webhook: 3 x 5 s + 3 s; SMTP: 10 s per step).
CLAIM_LEASE = timedelta(minutes=10)


def channel_columns(channel: str) -> List[sa.Column]:
    # Nullable without defaults, so ALTER TABLE ADD COLUMN works unchanged on SQLite and PostgreSQL.
    return [
        sa.Column(f"{channel}_state", sa.String(32)),
        sa.Column(f"{channel}_attempts", sa.Integer),
        sa.Column(f"{channel}_error", sa.String(500)),  # never contact details
        sa.Column(f"{channel}_claimed_at", sa.DateTime(timezone=True)),
    ]


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
    # Overall: "pending" while any channel is pending or failed. Kept for the retry query and for
    # servers of the previous version during a rolling upgrade.
    sa.Column("notification", sa.String(32), nullable=False),
    sa.Column("notification_attempts", sa.Integer, nullable=False, default=0),  # all channels together
    sa.Column("notification_error", sa.String(500)),
    # Per channel, as columns rather than a child table: there are two fixed channels, the claim
    # stays a single-row UPDATE, purge needs no cascade, and an older database only needs
    # ADD COLUMN (migrate() below).
    *channel_columns("email"),
    *channel_columns("webhook"),
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
    email_state: str = NOT_CONFIGURED
    email_attempts: int = 0
    email_error: Optional[str] = None
    email_claimed_at: Optional[datetime] = None
    webhook_state: str = NOT_CONFIGURED
    webhook_attempts: int = 0
    webhook_error: Optional[str] = None
    webhook_claimed_at: Optional[datetime] = None
    request_key: str = field(default="")

    def __post_init__(self) -> None:
        if not self.request_key:
            details = [self.conversation_id, self.name, self.phone, self.email, self.preferred_time, self.reason]
            self.request_key = hashlib.sha256("\x1f".join(d or "" for d in details).encode()).hexdigest()

    @property
    def status(self) -> str:
        return "handled" if self.handled_at else "new"

    def state(self, channel: str) -> str:
        return getattr(self, f"{channel}_state")

    def attempts(self, channel: str) -> int:
        return getattr(self, f"{channel}_attempts")

    def error(self, channel: str) -> Optional[str]:
        return getattr(self, f"{channel}_error")


def now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: Optional[datetime]) -> Optional[datetime]:
    """SQLite returns naive datetimes; every time we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def migrate(engine: sa.engine.Engine) -> None:
    """Adds the per-channel columns to a leads table made before they existed. Idempotent, and safe
    when several servers start at once: a column another process added meanwhile is not an error."""
    def existing() -> set:
        return {column["name"] for column in sa.inspect(engine).get_columns("leads")}

    for column in [c for c in leads_table.columns if c.name not in existing()]:
        ddl = f"ALTER TABLE leads ADD COLUMN {column.name} {column.type.compile(engine.dialect)}"
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(ddl)
        except DBAPIError:
            if column.name not in existing():
                raise
    # Rows from before (or written meanwhile by a server of the previous version) get the overall
    # state on every channel: which channel had worked was not recorded, so a lead "sent" before the
    # upgrade shows "sent" on both, and a "pending" one is retried on every configured channel.
    with engine.begin() as connection:
        for channel in CHANNELS:
            state = leads_table.c[f"{channel}_state"]
            connection.execute(leads_table.update().where(state.is_(None)).values(
                {state: leads_table.c.notification, leads_table.c[f"{channel}_attempts"]: 0}))


@lru_cache(maxsize=8)
def engine_for(url: str) -> sa.engine.Engine:
    engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    use_write_ahead_log(engine)
    metadata.create_all(engine)
    migrate(engine)
    return engine


def overall_state() -> Any:
    """The overall state as SQL, from the channels' states as they are in the database when the
    statement runs (so two processes recording different channels cannot leave it stale)."""
    states = [sa.func.coalesce(leads_table.c[f"{c}_state"], leads_table.c.notification) for c in CHANNELS]
    return sa.case(
        (sa.or_(*[s.in_([PENDING, FAILED]) for s in states]), PENDING),
        (sa.or_(*[s == SENT for s in states]), SENT),
        else_=NOT_CONFIGURED,
    )


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
        for column in ("created_at", "handled_at", "email_claimed_at", "webhook_claimed_at"):
            values[column] = as_utc(values[column])
        for channel in CHANNELS:  # a row a previous-version server wrote after migrate() ran
            values[f"{channel}_state"] = values[f"{channel}_state"] or values["notification"]
            values[f"{channel}_attempts"] = values[f"{channel}_attempts"] or 0
        return Lead(**values)

    def pending(self) -> List[Lead]:
        return self.list(leads_table.c.notification == PENDING)

    def claim(self, lead: Lead, channel: str) -> bool:
        """Counts one more attempt to send this channel for this lead, if it is not sent yet, no other
        process (another server's retry loop, the first try right after the form) has counted one
        since `lead` was read, and no other process is sending it now. Only the process that gets
        True sends, so staff are told once per channel."""
        state, attempts, claimed_at = (leads_table.c[f"{channel}_{p}"] for p in ("state", "attempts", "claimed_at"))
        with self.engine.begin() as connection:
            return connection.execute(
                leads_table.update().where(
                    (leads_table.c.id == lead.id)
                    & (sa.func.coalesce(state, leads_table.c.notification) != SENT)
                    & (sa.func.coalesce(attempts, 0) == lead.attempts(channel))
                    & (claimed_at.is_(None) | (claimed_at < now() - CLAIM_LEASE))
                ).values({
                    attempts: lead.attempts(channel) + 1, claimed_at: now(),
                    leads_table.c.notification_attempts: leads_table.c.notification_attempts + 1,
                })
            ).rowcount == 1

    def record(self, lead_id: int, channel: str, state: str, error: Optional[str] = None) -> None:
        """Stores how sending one channel went (releasing its claim), then the overall state. A
        channel recorded sent stays sent."""
        error = (error or None) and error[:500]
        sent = sa.func.coalesce(leads_table.c[f"{channel}_state"], leads_table.c.notification) == SENT
        with self.engine.begin() as connection:
            connection.execute(leads_table.update().where((leads_table.c.id == lead_id) & ~sent).values({
                f"{channel}_state": state, f"{channel}_error": error, f"{channel}_claimed_at": None,
            }))
            # The overall error is the latest one, kept until every channel is through.
            connection.execute(leads_table.update().where(leads_table.c.id == lead_id).values(
                notification=overall_state(),
                notification_error=sa.case((overall_state() == PENDING, sa.func.coalesce(
                    sa.literal(error, sa.String), leads_table.c.notification_error)), else_=sa.null()),
            ))

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
