"""Low-confidence fallback: ask the visitor to rephrase and offer the three likeliest topics."""
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.topics import suggested_questions

SUGGESTION_COUNT = 3


def likely_topics(parse_data: Dict[str, Any], retrieval_intent: str = "faq") -> List[str]:
    """The ResponseSelector's ranking of FAQ topics for this message, best first."""
    ranking = ((parse_data.get("response_selector") or {}).get(retrieval_intent) or {}).get("ranking") or []
    return [entry["intent_response_key"] for entry in ranking if entry.get("intent_response_key")]


class ActionSuggestTopics(Action):
    def name(self) -> str:
        return "action_suggest_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        questions = suggested_questions()
        topics = [topic for topic in likely_topics(tracker.latest_message) if topic in questions]
        # Payloads are plain questions: the NLU understands them, unlike "/faq/<topic>" shortcuts.
        buttons = [{"title": questions[t], "payload": questions[t]} for t in topics[:SUGGESTION_COUNT]]
        dispatcher.utter_message(response="utter_ask_rephrase", buttons=buttons)
        return []
