"""The contact form (contact_form in domain.yml): decides whether a message answers the pending
question or interrupts the form, and checks each answer."""
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.contact_details import (
    find_contact_details, free_text, is_skip, parse_name, simple, yes_or_no,
)

FORM_SLOTS = ["contact_name", "contact_details", "contact_time", "contact_reason", "contact_consent", "contact_confirmed"]
DETAIL_SLOTS = ["contact_phone", "contact_email"]
INVALID_ANSWERS = "contact_invalid_answers"
GAVE_UP = "contact_gave_up"
ALL_CONTACT_SLOTS = FORM_SLOTS + DETAIL_SLOTS + [INVALID_ANSWERS, GAVE_UP]
MAX_INVALID_ANSWERS = 3
NO_REASON = "(not given)"

# Messages that leave or pause the form whatever the pending question is (rules in data/contact_form.yml).
ALWAYS_INTERRUPT = {"crisis", "crisis_possible", "medical_advice_check_in", "emergency", "sensitive_data", "stop", "goodbye",
                    "message_too_long", "empty_message"}
# Messages that pause the form only when they are questions: "weekday mornings" may look like an FAQ
# about opening hours to the model, but it is the answer to "when should they call you?".
# "CRPS in my left foot" is a reason for the visit, not a request for medical advice.
INTERRUPT_WHEN_QUESTION = {"faq", "out_of_scope", "bot_challenge", "request_contact", "nlu_fallback",
                           "medical_advice"}
QUESTION_START = re.compile(
    r"^(what|whats|what's|how|why|when|where|who|which|is|are|can|could|do|does|did|will|would|should|"
    r"am|may|shall|tell me|explain)\b", re.I,
)

# Words at the summary that say which detail to correct ("change my phone").
CORRECTIONS = {
    "contact_name": ("name",),
    "contact_details": ("phone", "number", "email", "e-mail", "mail", "contact details"),
    "contact_time": ("time", "when", "morning", "afternoon", "evening", "day"),
    "contact_reason": ("reason",),
}
HINTS = {
    "contact_name": "utter_contact_name_hint",
    "contact_details": "utter_contact_details_hint",
    "contact_time": "utter_contact_time_hint",
    "contact_reason": "utter_contact_reason_hint",
    "contact_consent": "utter_contact_consent_hint",
    "contact_confirmed": "utter_contact_confirmed_hint",
}


def is_question(text: str) -> bool:
    text = text.strip()
    return text.endswith("?") or bool(QUESTION_START.match(text))


def is_fixed_answer(requested: Optional[str], text: str) -> bool:
    """A button's or a plain word's answer to a yes/no or skippable question ("skip", "no", "yes"):
    always an answer, whatever intent the model gives it ("skip" looks like "stop" to it)."""
    if requested == "contact_reason":
        return is_skip(text)
    return requested in ("contact_consent", "contact_confirmed") and yes_or_no(text) is not None


def interrupts_form(message: Dict[str, Any], requested: Optional[str] = None) -> bool:
    """True when the visitor's message is not an answer to the form's question."""
    if is_fixed_answer(requested, message.get("text") or ""):
        return False
    intent = (message.get("intent") or {}).get("name")
    if intent in ALWAYS_INTERRUPT:
        return True
    return intent in INTERRUPT_WHEN_QUESTION and is_question(message.get("text") or "")


def intent_of(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


class ValidateContactForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_contact_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot(GAVE_UP):
            return []
        if tracker.get_slot("contact_consent") is False:
            return FORM_SLOTS[:-1]  # no summary to confirm: nothing will be stored
        return FORM_SLOTS

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """The whole message answers the pending question, unless it interrupts the form (then the
        form is rejected and a rule answers it first)."""
        requested = tracker.get_slot("requested_slot")
        if not requested or interrupts_form(tracker.latest_message, requested):
            return []
        return [SlotSet(requested, tracker.latest_message.get("text") or "")]

    def invalid(self, slot: Text, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """Explains what is expected; after three misses, stops asking (the submit action then offers
        the clinic's phone number)."""
        count = int(tracker.get_slot(INVALID_ANSWERS) or 0) + 1
        if count >= MAX_INVALID_ANSWERS:
            return {slot: None, GAVE_UP: True, INVALID_ANSWERS: 0}
        dispatcher.utter_message(response=HINTS[slot])
        return {slot: None, INVALID_ANSWERS: count}

    def valid(self, **values: Any) -> Dict[Text, Any]:
        return {**values, INVALID_ANSWERS: 0}

    def validate_contact_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        name = parse_name(str(value))
        return self.valid(contact_name=name) if name else self.invalid("contact_name", dispatcher, tracker)

    def validate_contact_details(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        phone, email = find_contact_details(str(value))
        if not (phone or email):
            return self.invalid("contact_details", dispatcher, tracker)
        shown = " and ".join(detail for detail in (phone, email) if detail)
        return self.valid(contact_details=shown, contact_phone=phone, contact_email=email)

    def validate_contact_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        time = free_text(str(value))
        return self.valid(contact_time=time) if time else self.invalid("contact_time", dispatcher, tracker)

    def validate_contact_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if is_skip(str(value), intent_of(tracker)):
            return self.valid(contact_reason=NO_REASON)
        reason = free_text(str(value))
        return self.valid(contact_reason=reason) if reason else self.invalid("contact_reason", dispatcher, tracker)

    def validate_contact_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        answer = yes_or_no(str(value), intent_of(tracker))
        return self.valid(contact_consent=answer) if answer is not None else self.invalid("contact_consent", dispatcher, tracker)

    def validate_contact_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        said = simple(str(value))
        to_correct = [slot for slot, words in CORRECTIONS.items() if any(re.search(rf"\b{w}\b", said) for w in words)]
        if to_correct:
            # Asking these again brings the visitor back to the summary afterwards.
            reset = {slot: None for slot in to_correct}
            if "contact_details" in to_correct:
                reset.update({slot: None for slot in DETAIL_SLOTS})
            return self.valid(contact_confirmed=None, **reset)
        answer = yes_or_no(str(value), intent_of(tracker))
        if answer:
            return self.valid(contact_confirmed=True)
        if answer is False:
            dispatcher.utter_message(response="utter_contact_which_change")
            return {"contact_confirmed": None}
        return self.invalid("contact_confirmed", dispatcher, tracker)
