"""Tells the clinic's staff about a new contact request: email (SMTP) and/or a webhook (JSON POST).
Both are off until configured (clinic.yml "notify" or the environment). A failure never loses the
lead: it stays "pending" in the database and is retried."""
import logging
import smtplib
import time
from email.message import EmailMessage
from typing import Any, Callable, Dict, List, Optional

import requests

from clinic.lead_store import NOT_CONFIGURED, PENDING, SENT, Lead, LeadStore
from clinic.settings import load

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
WEBHOOK_ATTEMPTS = 3
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
            sleep(2 ** (attempt - 1))
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


def notifiers(config: Dict[str, str]) -> List[Callable[[Lead, Dict[str, str]], None]]:
    """The configured ways to tell staff, in the order they are tried."""
    chosen = []
    if config.get("smtp_host") and config.get("email_to"):
        chosen.append(send_email)
    if config.get("webhook_url"):
        chosen.append(send_webhook)
    return chosen


def notify(lead: Lead, store: LeadStore, config: Optional[Dict[str, str]] = None) -> str:
    """Sends every configured notification for a stored lead and records the outcome in the store."""
    config = config if config is not None else load()["notify"]
    senders = notifiers(config)
    if not senders:
        store.record_notification(lead.id, NOT_CONFIGURED)
        return NOT_CONFIGURED
    if lead.notification == PENDING and not store.claim_notification(lead):
        return PENDING  # another process is sending this one right now
    problems = []
    for send in senders:
        try:
            send(lead, config)
        except NotificationFailed as error:
            problems.append(str(error))
    state = PENDING if problems else SENT
    store.record_notification(lead.id, state, "; ".join(problems))
    if problems:
        logger.warning("Lead %s: staff notification failed (%s); it will be retried.", lead.id, "; ".join(problems))
    return state


def retry_pending(store: LeadStore, config: Optional[Dict[str, str]] = None) -> Dict[str, int]:
    """Tries again for every lead whose notification failed; returns how many of each outcome."""
    outcomes: Dict[str, int] = {}
    for lead in store.pending():
        state = notify(lead, store, config)
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes
