"""Contact requests: stored once, staff notified by a real webhook receiver and a real SMTP server on
localhost, failures kept pending and retried, and the staff command's list (each channel's state),
CSV, handled and purge. tests/test_notify_delivery.py: each channel sent once across retries."""
import csv
import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from clinic import leads as leads_command
from clinic.lead_store import FAILED, NOT_CONFIGURED, PENDING, SENT, Lead, LeadStore
from clinic.notify import notify, retry_pending


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebhookReceiver:
    """A real HTTP server standing in for the clinic's CRM or chat webhook."""

    def __init__(self) -> None:
        self.received: List[Dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"json": json.loads(body), "auth": self.headers.get("Authorization")})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def store(tmp_path: Path) -> LeadStore:
    return LeadStore(f"sqlite:///{tmp_path / 'leads.sqlite'}")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    webhook = WebhookReceiver()
    yield webhook
    webhook.server.shutdown()


def a_lead(**changes: str) -> Lead:
    values = dict(conversation_id="visitor-1", name="Ana Lopez", phone="+15552345678", email=None,
                  preferred_time="weekday mornings", reason="CRPS in my foot")
    return Lead(**{**values, **changes})


def test_the_same_request_is_stored_once(store: LeadStore) -> None:
    first = store.add(a_lead())
    again = store.add(a_lead())
    other = store.add(a_lead(preferred_time="evenings"))
    assert first.id == again.id != other.id
    assert len(store.list()) == 2


def test_webhook_gets_the_lead_as_json_with_the_token(store: LeadStore, receiver: WebhookReceiver) -> None:
    lead = store.add(a_lead())
    state = notify(lead, store, {"webhook_url": receiver.url, "webhook_token": "s3cret"})
    assert state == SENT and store.get(lead.id).notification == SENT
    assert receiver.received[0]["json"]["name"] == "Ana Lopez"
    assert receiver.received[0]["json"]["phone"] == "+15552345678"
    assert receiver.received[0]["auth"] == "Bearer s3cret"


def test_failed_webhook_keeps_the_lead_pending_then_retry_sends_it(store: LeadStore, receiver: WebhookReceiver) -> None:
    receiver.status = 503
    lead = store.add(a_lead())
    config = {"webhook_url": receiver.url}
    assert notify(lead, store, config) == PENDING
    stored = store.get(lead.id)
    assert stored.notification == PENDING and "503" in stored.notification_error
    assert len(receiver.received) == 3  # retried before giving up for now
    receiver.status = 200
    assert retry_pending(store, config) == {SENT: 1}
    assert store.get(lead.id).notification == SENT and store.pending() == []


def test_two_servers_retrying_at_once_tell_staff_once(tmp_path: Path, receiver: WebhookReceiver) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    lead = LeadStore(url).add(a_lead(notification=PENDING))
    config = {"webhook_url": receiver.url}
    servers = [LeadStore(url), LeadStore(url)]  # two processes' stores on one database
    both_read = threading.Barrier(2)

    def retry_loop(store: LeadStore) -> None:
        pending = store.pending()
        both_read.wait()  # both have seen the lead as pending before either sends
        for each in pending:
            notify(each, store, config)

    threads = [threading.Thread(target=retry_loop, args=(store,)) for store in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.received) == 1
    assert LeadStore(url).get(lead.id).notification == SENT


def test_unreachable_webhook_does_not_lose_the_lead(store: LeadStore) -> None:
    lead = store.add(a_lead())
    assert notify(lead, store, {"webhook_url": f"http://127.0.0.1:{free_port()}/nobody"}) == PENDING
    assert store.get(lead.id).name == "Ana Lopez"


def test_nothing_configured_is_recorded_as_such(store: LeadStore) -> None:
    lead = store.add(a_lead())
    assert notify(lead, store, {}) == NOT_CONFIGURED


def test_email_reaches_a_real_smtp_server(store: LeadStore) -> None:
    from aiosmtpd.controller import Controller

    messages: List[str] = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            messages.append(envelope.content.decode())
            return "250 Message accepted for delivery"

    server = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        lead = store.add(a_lead(email="ana@example.com"))
        config = {"smtp_host": "127.0.0.1", "smtp_port": str(server.port), "smtp_security": "none",
                  "email_to": "staff@clinic.example", "email_from": "assistant@clinic.example"}
        assert notify(lead, store, config) == SENT
    finally:
        server.stop()
    assert "Name: Ana Lopez" in messages[0] and "ana@example.com" in messages[0]


def test_list_and_export_show_each_channel(store: LeadStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", str(store.engine.url))
    lead = store.add(a_lead(notification=PENDING, email_state=SENT, webhook_state=PENDING))
    store.add(a_lead(name="Ben Okafor"))
    out = io.StringIO()
    leads_command.main(["list"], out)
    assert "Ana Lopez" in out.getvalue() and "notification: email sent, webhook pending\n" in out.getvalue()
    assert "Ben Okafor" in out.getvalue() and "notification: not configured\n" in out.getvalue()

    for _ in range(3):
        assert store.claim(store.get(lead.id), "webhook")
        store.record(lead.id, "webhook", FAILED, "webhook answered HTTP 500")
    out = io.StringIO()
    leads_command.main(["list"], out)
    assert "notification: email sent, webhook failed (3 attempts: webhook answered HTTP 500)" in out.getvalue()
    out = io.StringIO()
    leads_command.main(["export"], out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["notification"], row["email_notification"], row["email_notification_attempts"]) == (PENDING, SENT, "0")
    assert (row["webhook_notification"], row["webhook_notification_attempts"]) == (FAILED, "3")
    assert row["webhook_notification_error"] == "webhook answered HTTP 500" and row["email_notification_error"] == ""


def test_staff_list_export_handled_and_purge(store: LeadStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", str(store.engine.url))
    first = store.add(a_lead())
    store.add(a_lead(name="Ben Okafor", phone=None, email="ben@example.com"))
    out = io.StringIO()
    assert leads_command.main(["list"], out) == 0
    assert "Ana Lopez" in out.getvalue() and "Ben Okafor" in out.getvalue()

    assert leads_command.main(["handled", str(first.id)], io.StringIO()) == 0
    assert leads_command.main(["handled", "999"], io.StringIO()) == 1
    exported = tmp_path / "leads.csv"
    leads_command.main(["export", str(exported)], io.StringIO())
    rows = list(csv.DictReader(exported.open()))
    assert [r["name"] for r in rows] == ["Ben Okafor"]  # handled ones only with --all
    assert rows[0]["notification"] == NOT_CONFIGURED and rows[0]["email"] == "ben@example.com"
    leads_command.main(["export", str(exported), "--all"], io.StringIO())
    assert {r["name"]: r["status"] for r in csv.DictReader(exported.open())} == {"Ana Lopez": "handled", "Ben Okafor": "new"}

    out = io.StringIO()
    leads_command.main(["purge", "--older-than", "30"], out)
    assert len(store.list()) == 2 and "Deleted 0 contact requests" in out.getvalue()
    leads_command.main(["purge", "--older-than", "0"], io.StringIO())
    assert store.list() == []


def test_purge_deletes_old_conversations_and_keeps_recent_ones(store: LeadStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uses Rasa's own SQL tracker store on the same database, as the running assistant does."""
    import asyncio
    import time

    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from clinic.tracker_store import ClinicTrackerStore

    url = str(store.engine.url)
    monkeypatch.setenv("DATABASE_URL", url)
    conversations = ClinicTrackerStore(host=url)
    for sender, age_days in (("old-visitor", 40), ("recent-visitor", 1)):
        tracker = DialogueStateTracker(sender, slots=[])
        tracker.update(UserUttered("is it safe?", timestamp=time.time() - age_days * 86400))
        asyncio.run(conversations.save(tracker))
    out = io.StringIO()
    leads_command.main(["purge", "--older-than", "30"], out)
    assert "1 conversations" in out.getvalue()
    assert set(asyncio.run(conversations.keys())) == {"recent-visitor"}
