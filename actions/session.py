"""Conversation start: load the clinic's contact details into slots for the answers to use."""
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from clinic.settings import clinic_details


class ActionSessionStart(Action):
    """Starts each session with the current clinic settings, so a changed phone number or opening
    hours reach visitors without retraining or restarting."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        events += [SlotSet(slot, value) for slot, value in clinic_details().items()]
        events.append(ActionExecuted("action_listen"))
        return events
