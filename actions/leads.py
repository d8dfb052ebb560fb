"""The end of the contact form: store the confirmed request, tell staff, tell the visitor what
happens next; or leave the form with nothing stored."""
import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.contact_form import ALL_CONTACT_SLOTS, GAVE_UP, NO_REASON
from clinic.lead_store import PENDING, Lead, LeadStore
from clinic.notify import mark_pending, notify
from clinic.settings import load

logger = logging.getLogger(__name__)

CONTACT_OFFER_PAYLOAD = "/request_contact"


def cleared_form() -> List[EventType]:
    return [SlotSet(slot, None) for slot in ALL_CONTACT_SLOTS] + [SlotSet("requested_slot", None)]


def lead_from(tracker: Tracker) -> Lead:
    reason = tracker.get_slot("contact_reason")
    return Lead(
        conversation_id=tracker.sender_id,
        name=tracker.get_slot("contact_name"),
        phone=tracker.get_slot("contact_phone"),
        email=tracker.get_slot("contact_email"),
        preferred_time=tracker.get_slot("contact_time"),
        reason=None if reason == NO_REASON else reason,
    )


async def notify_in_background(lead: Lead, store: LeadStore, config: Dict[str, str]) -> None:
    """Staff notification can take seconds (retries); the visitor's reply must not wait for it. If
    it fails or the process stops, the lead stays "pending" and is retried (clinic/serve.py)."""
    try:
        await asyncio.get_running_loop().run_in_executor(None, notify, lead, store, config)
    except Exception:  # noqa: BLE001 - the lead is stored; a failure here must not reach the visitor
        logger.exception("Lead %s: notification crashed; it stays pending.", lead.id)


class ActionSubmitContactForm(Action):
    def name(self) -> Text:
        return "action_submit_contact_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot(GAVE_UP):
            dispatcher.utter_message(response="utter_contact_form_gave_up")
        elif tracker.get_slot("contact_consent") is False:
            dispatcher.utter_message(response="utter_contact_not_stored")
        elif tracker.get_slot("contact_confirmed"):
            lead = self.store(lead_from(tracker))
            dispatcher.utter_message(response="utter_contact_submitted", lead_number=lead.id)
        return cleared_form()

    @staticmethod
    def store(lead: Lead, store: Optional[LeadStore] = None) -> Lead:
        store = store or LeadStore()
        config = load()["notify"]
        stored = store.add(mark_pending(lead, config))
        if stored.notification == PENDING and stored.notification_attempts == 0:
            asyncio.get_running_loop().create_task(notify_in_background(stored, store, config))
        return stored


class ActionCancelContactForm(Action):
    def name(self) -> Text:
        return "action_cancel_contact_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_contact_cancelled")
        return cleared_form()


def offered_contact(tracker: Tracker) -> bool:
    """Whether the assistant's last message offered to have the clinic contact the visitor."""
    seen_visitor_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_visitor_message:
                return False
            seen_visitor_message = True
        elif event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            return any(button.get("payload") == CONTACT_OFFER_PAYLOAD for button in buttons)
    return False


class ActionAnswerYesNo(Action):
    """A typed "yes" or "no": accepts or declines the contact offer the assistant just made."""

    def name(self) -> Text:
        return "action_answer_yes_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        said_yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        if offered_contact(tracker):
            if said_yes:
                return [FollowupAction("contact_form")]
            dispatcher.utter_message(response="utter_no_contact_wanted")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return []
