"""Tells the clinic's staff about a new contact request: email (SMTP) and/or a webhook (JSON POST).
Both are off until configured (clinic.yml "notify" or the environment). A failure never loses the
lead: the channel that failed stays "failed" in the database and is retried, alone."""
import logging
import smtplib
import time
from email.message import EmailMessage
from typing import Any, Callable, Dict, Optional

import requests

from clinic.lead_store import CHANNELS, FAILED, NOT_CONFIGURED, PENDING, SENT, Lead, LeadStore
from clinic.settings import load

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BACKOFF_SECONDS = 1.0  # the pause before the second attempt; it doubles before each next one
SMTP_TIMEOUT_SECONDS = 10


class NotificationFailed(Exception):
    """Raised with a message safe to store and show staff (no contact details)."""


def lead_payload(lead: Lead) -> Dict[str, Any]:
    return {
        "event": "contact_request",
        "id": lead.id,
        "created_at": lead.created_at.isoformat() if lead.created_at else None,
        "name": lead.name,
        "phone": lead.phone,
        "email": lead.email,
        "preferred_time": lead.preferred_time,
        "reason": lead.reason,
        "conversation_id": lead.conversation_id,
    }


def send_webhook(lead: Lead, config: Dict[str, str], sleep: Callable[[float], None] = time.sleep) -> None:
    headers = {"Authorization": f"Bearer {config['webhook_token']}"} if config.get("webhook_token") else {}
    problem = ""
    for attempt in range(WEBHOOK_ATTEMPTS):
        if attempt:
            sleep(WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            response = requests.post(
                config["webhook_url"], json=lead_payload(lead), headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            problem = f"webhook unreachable ({type(error).__name__})"
            continue
        if response.status_code < 300:
            return
        problem = f"webhook answered HTTP {response.status_code}"
        if response.status_code < 500 and response.status_code != 429:
            break  # the receiver refuses this request; repeating it now will not help
    raise NotificationFailed(problem)


def email_body(lead: Lead) -> str:
    return "\n".join(
        f"{label}: {value}"
        for label, value in (
            ("Name", lead.name), ("Phone", lead.phone), ("Email", lead.email),
            ("Preferred contact time", lead.preferred_time), ("Reason", lead.reason),
            ("Received", lead.created_at), ("Lead number", lead.id),
        )
        if value
    )


def send_email(lead: Lead, config: Dict[str, str]) -> None:
    message = EmailMessage()
    message["Subject"] = f"New contact request #{lead.id} from the website assistant"
    message["From"] = config.get("email_from") or config.get("smtp_user") or "assistant@localhost"
    message["To"] = config["email_to"]
    message.set_content(email_body(lead) + "\n\nPlease contact the visitor and mark the lead handled.\n")
    security = (config.get("smtp_security") or "starttls").lower()
    port = int(config.get("smtp_port") or (465 if security == "ssl" else 587))
    connect = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    try:
        with connect(config["smtp_host"], port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if security == "starttls":
                smtp.starttls()
            if config.get("smtp_user"):
                smtp.login(config["smtp_user"], config.get("smtp_password") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise NotificationFailed(f"email failed ({type(error).__name__})") from None


def channels(config: Dict[str, str]) -> Dict[str, Callable[[Lead, Dict[str, str]], None]]:
    """The configured ways to tell staff, by channel, in the order they are tried."""
    chosen: Dict[str, Callable[[Lead, Dict[str, str]], None]] = {}
    if config.get("smtp_host") and config.get("email_to"):
        chosen["email"] = send_email
    if config.get("webhook_url"):
        chosen["webhook"] = send_webhook
    return chosen


def mark_pending(lead: Lead, config: Dict[str, str]) -> Lead:
    """Sets a new lead's states before it is stored: each configured channel waits to be sent."""
    configured = channels(config)
    for channel in CHANNELS:
        setattr(lead, f"{channel}_state", PENDING if channel in configured else NOT_CONFIGURED)
    lead.notification = PENDING if configured else NOT_CONFIGURED
    return lead


def notify(lead: Lead, store: LeadStore, config: Optional[Dict[str, str]] = None) -> str:
    """Sends each configured channel not yet sent for a stored lead, recording each outcome in the
    store; returns the lead's overall state. A channel already sent is never sent again, so a
    failed webhook is retried without repeating the email."""
    config = config if config is not None else load()["notify"]
    senders = channels(config)
    for channel in CHANNELS:
        if lead.state(channel) == SENT:
            continue
        send = senders.get(channel)
        if send is None:
            if lead.state(channel) != NOT_CONFIGURED:  # its settings were removed since the lead came
                store.record(lead.id, channel, NOT_CONFIGURED)
            continue
        if not store.claim(lead, channel):
            continue  # another process sent it or is sending it right now
        try:
            send(lead, config)
        except NotificationFailed as error:
            store.record(lead.id, channel, FAILED, str(error))
            logger.warning("Lead %s: staff %s failed (%s); it will be retried.", lead.id, channel, error)
        except Exception as error:  # noqa: BLE001 - release the claim now and still try the other channel
            store.record(lead.id, channel, FAILED, f"{channel} failed unexpectedly ({type(error).__name__})")
            logger.exception("Lead %s: staff %s crashed; it will be retried.", lead.id, channel)
        else:
            store.record(lead.id, channel, SENT)
    stored = store.get(lead.id)
    return stored.notification if stored else NOT_CONFIGURED


def retry_pending(store: LeadStore, config: Optional[Dict[str, str]] = None) -> Dict[str, int]:
    """Tries again for every lead with a channel not yet sent; returns how many end in each state."""
    outcomes: Dict[str, int] = {}
    for lead in store.pending():
        state = notify(lead, store, config)
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes
