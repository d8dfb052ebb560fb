"""The REST channel the website and tests talk to (/webhooks/rest/webhook), made to always answer."""
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from clinic.settings import load


def unavailable_reply() -> str:
    phone = load()["clinic"]["phone"]
    return (
        "Sorry, I can't answer that right now because of a technical problem on our side. "
        f"Please try again in a moment, or call the clinic at {phone}."
    )


class ClinicRestInput(RestInput):
    """Rasa's REST channel, plus a polite reply with the clinic's phone number whenever the assistant
    produced none (for example when the action server is down), instead of an empty answer."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answer_always(message: UserMessage) -> None:
            try:
                await on_new_message(message)
            finally:
                channel = message.output_channel
                if isinstance(channel, CollectingOutputChannel) and not channel.messages:
                    await channel.send_text_message(message.sender_id, unavailable_reply())

        return super().blueprint(answer_always)
