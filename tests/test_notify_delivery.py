"""Staff are told once per channel: a real SMTP server (aiosmtpd) and a real webhook receiver on
127.0.0.1, a webhook that fails twice before it answers, retries, restarts of the assistant (a new
store on the same database file) in between, two processes at once, and a database made before
notification status was kept per channel (SQLite, and PostgreSQL when there is one)."""
import asyncio
import email
import json
import shutil
import subprocess
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from clinic import lead_store as lead_store_module
from clinic import notify as notify_module
from clinic.lead_store import FAILED, NOT_CONFIGURED, PENDING, SENT, Lead, LeadStore
from clinic.notify import WEBHOOK_ATTEMPTS, notify, retry_pending
from clinic.settings import load
from test_leads import a_lead, free_port


class Inbox:
    """An SMTP server collecting what it is sent, by lead number (from the subject)."""

    def __init__(self) -> None:
        self.messages: List[email.message.Message] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"

    def per_lead(self) -> Counter:
        return Counter(int(m["Subject"].split("#")[1].split()[0]) for m in self.messages)


class FlakyWebhook:
    """A real HTTP receiver that answers 500 to each lead's first `failed_deliveries` deliveries (each
    a full round of WEBHOOK_ATTEMPTS requests), then 200. `hold` keeps requests waiting while set."""

    def __init__(self, failed_deliveries: int = 2) -> None:
        self.requests: Counter = Counter()
        self.delivered: Counter = Counter()
        self.release = threading.Event()
        self.release.set()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                lead_id = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["id"]
                receiver.arrived.set()
                receiver.release.wait(30)
                receiver.requests[lead_id] += 1
                status = 500 if receiver.requests[lead_id] <= failed_deliveries * WEBHOOK_ATTEMPTS else 200
                if status == 200:
                    receiver.delivered[lead_id] += 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    smtp = Inbox()
    smtp.controller.start()
    yield smtp
    smtp.controller.stop()


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyWebhook]:
    monkeypatch.setattr(notify_module, "WEBHOOK_BACKOFF_SECONDS", 0.05)  # the real 1 s + 2 s make no difference here
    receiver = FlakyWebhook()
    yield receiver
    receiver.release.set()
    receiver.server.shutdown()


@pytest.fixture
def notify_env(inbox: Inbox, webhook: FlakyWebhook, monkeypatch: pytest.MonkeyPatch) -> Dict[str, str]:
    """Both channels configured in the environment, as an operator would; returns the loaded settings."""
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(inbox.controller.port), "SMTP_SECURITY": "none",
                       "NOTIFY_EMAIL_TO": "staff@clinic.example", "NOTIFY_EMAIL_FROM": "assistant@clinic.example",
                       "NOTIFY_WEBHOOK_URL": webhook.url}.items():
        monkeypatch.setenv(key, value)
    return load()["notify"]


def restarted(url: str) -> LeadStore:
    """The store a restarted assistant opens: a new engine, which runs table creation and migration again."""
    lead_store_module.engine_for.cache_clear()
    return LeadStore(url)


def submit_form(lead: Lead, store: LeadStore) -> Lead:
    """The contact form's end, as the action server runs it: store, then the first try in the background."""
    from actions.leads import ActionSubmitContactForm

    async def run() -> Lead:
        stored = ActionSubmitContactForm.store(lead, store)
        await asyncio.gather(*(task for task in asyncio.all_tasks() if task is not asyncio.current_task()))
        return stored

    return asyncio.run(run())


def test_each_channel_is_sent_once_across_retries_and_restarts(
    tmp_path: Path, inbox: Inbox, webhook: FlakyWebhook, notify_env: Dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite'}"
    store = LeadStore(url)
    ana = submit_form(a_lead(), store)
    ben = submit_form(a_lead(name="Ben Okafor", phone=None, email="ben@example.com"), store)
    assert inbox.per_lead() == {ana.id: 1, ben.id: 1}
    after_first_try = store.get(ana.id)
    assert (after_first_try.email_state, after_first_try.webhook_state) == (SENT, FAILED)
    assert after_first_try.notification == PENDING and "HTTP 500" in after_first_try.webhook_error

    assert retry_pending(store) == {PENDING: 2}  # the webhook's second failure; email not repeated
    assert inbox.per_lead() == {ana.id: 1, ben.id: 1}
    store = restarted(url)
    assert retry_pending(store) == {SENT: 2}
    for _ in range(2):
        store = restarted(url)
        assert retry_pending(store) == {}

    assert inbox.per_lead() == {ana.id: 1, ben.id: 1}
    assert webhook.delivered == {ana.id: 1, ben.id: 1}
    assert webhook.requests == {ana.id: 3 * WEBHOOK_ATTEMPTS - 2, ben.id: 3 * WEBHOOK_ATTEMPTS - 2}
    final = store.get(ana.id)
    assert (final.notification, final.email_state, final.webhook_state) == (SENT, SENT, SENT)
    assert (final.email_attempts, final.webhook_attempts, final.webhook_error) == (1, 3, None)


def test_a_retry_never_sends_what_the_first_try_is_still_sending(
    tmp_path: Path, inbox: Inbox, webhook: FlakyWebhook, notify_env: Dict[str, str]
) -> None:
    """The first try (action server) and the retry loop (another process) overlap while the
    webhook is slow: the retry must leave the channel to the process sending it."""
    url = f"sqlite:///{tmp_path / 'clinic.sqlite'}"
    webhook.release.clear()
    lead = LeadStore(url).add(notify_module.mark_pending(a_lead(), notify_env))
    first_try = threading.Thread(target=notify, args=(lead, LeadStore(url), notify_env))
    first_try.start()
    assert webhook.arrived.wait(10)  # email sent, webhook request in flight
    assert retry_pending(restarted(url), notify_env) == {PENDING: 1}
    webhook.release.set()
    first_try.join()
    assert inbox.per_lead() == {lead.id: 1}
    assert webhook.requests == {lead.id: WEBHOOK_ATTEMPTS}


def test_a_claim_left_by_a_process_that_died_is_taken_over_after_the_lease(
    tmp_path: Path, inbox: Inbox, webhook: FlakyWebhook, notify_env: Dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite'}"
    store = LeadStore(url)
    lead = store.add(notify_module.mark_pending(a_lead(), notify_env))
    assert store.claim(lead, "email")  # ...and the process stops before sending
    assert retry_pending(restarted(url), notify_env) == {PENDING: 1}
    assert inbox.per_lead() == {}
    expired = lead_store_module.now() - lead_store_module.CLAIM_LEASE - timedelta(seconds=1)
    with store.engine.begin() as connection:
        connection.execute(lead_store_module.leads_table.update().values(email_claimed_at=expired))
    retry_pending(restarted(url), notify_env)
    assert inbox.per_lead() == {lead.id: 1}
    assert restarted(url).get(lead.id).email_state == SENT


def test_two_processes_retrying_at_once_send_each_channel_once(
    tmp_path: Path, inbox: Inbox, webhook: FlakyWebhook, notify_env: Dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite'}"
    lead = LeadStore(url).add(notify_module.mark_pending(a_lead(), notify_env))
    both_read = threading.Barrier(2)

    def retry_loop() -> None:
        pending = LeadStore(url).pending()
        both_read.wait()
        for each in pending:
            notify(each, LeadStore(url), notify_env)

    threads = [threading.Thread(target=retry_loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inbox.per_lead() == {lead.id: 1}
    assert sum(webhook.requests.values()) == WEBHOOK_ATTEMPTS  # one round, from one process


def old_leads_table(metadata: sa.MetaData) -> sa.Table:
    """The leads table as the assistant made it before notification status was kept per channel."""
    return sa.Table(
        "leads", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
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
        sa.Column("notification_error", sa.String(500)),
    )


def check_migration(url: str, inbox: Inbox, config: Dict[str, str]) -> None:
    old = old_leads_table(sa.MetaData())
    engine = sa.create_engine(url, future=True)
    old.metadata.drop_all(engine)
    old.metadata.create_all(engine)
    with engine.begin() as connection:
        for number, state in enumerate((SENT, PENDING, NOT_CONFIGURED), 1):
            connection.execute(old.insert().values(
                request_key=f"key-{number}", created_at=lead_store_module.now(), conversation_id=f"visitor-{number}",
                name=f"Visitor {number}", phone="+15552345678", notification=state, notification_attempts=1,
                notification_error="webhook answered HTTP 500" if state == PENDING else None))
    engine.dispose()

    store = restarted(url)
    restarted(url)  # a second start finds nothing to do
    leads = store.list()
    assert [(lead.name, lead.email_state, lead.webhook_state) for lead in leads] == [
        ("Visitor 1", SENT, SENT), ("Visitor 2", PENDING, PENDING), ("Visitor 3", NOT_CONFIGURED, NOT_CONFIGURED)]
    assert retry_pending(store, config) == {SENT: 1}
    assert inbox.per_lead() == {leads[1].id: 1}
    new = store.add(a_lead())  # new leads are stored as before
    assert store.get(new.id).name == "Ana Lopez" and len(store.list()) == 4


def test_a_database_from_before_per_channel_status_is_migrated_on_start(tmp_path: Path, inbox: Inbox) -> None:
    config = {"smtp_host": "127.0.0.1", "smtp_port": str(inbox.controller.port), "smtp_security": "none",
              "email_to": "staff@clinic.example"}
    check_migration(f"sqlite:///{tmp_path / 'old.sqlite'}", inbox, config)


def postgres_url() -> str:
    """A database of its own on the machine's PostgreSQL (started if installed and stopped), so this
    does not disturb the database the Rasa tests share."""
    if not shutil.which("pg_ctlcluster"):
        pytest.skip("PostgreSQL is not installed here (tests/test_postgres.py installs it)")
    cluster = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.split()
    if len(cluster) < 4:
        pytest.skip("no PostgreSQL cluster")
    version, name, port, status = cluster[:4]
    if status != "online":
        subprocess.run(["pg_ctlcluster", version, name, "start"], capture_output=True, timeout=120)
    for sql in ("DROP DATABASE IF EXISTS clinic_leads_migration", "DROP ROLE IF EXISTS clinic_leads_migration",
                "CREATE ROLE clinic_leads_migration LOGIN PASSWORD 'clinic_leads_migration'",
                "CREATE DATABASE clinic_leads_migration OWNER clinic_leads_migration"):
        done = subprocess.run(["su", "postgres", "-c", f'psql -v ON_ERROR_STOP=1 -qc "{sql}"'],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.skip(f"PostgreSQL test database not made: {done.stderr[-300:]}")
    return f"postgresql://clinic_leads_migration:clinic_leads_migration@127.0.0.1:{port}/clinic_leads_migration"


def test_a_postgresql_database_from_before_per_channel_status_is_migrated(inbox: Inbox) -> None:
    config = {"smtp_host": "127.0.0.1", "smtp_port": str(inbox.controller.port), "smtp_security": "none",
              "email_to": "staff@clinic.example"}
    url = postgres_url()
    try:
        check_migration(url, inbox, config)
    finally:
        lead_store_module.engine_for(url).dispose()
