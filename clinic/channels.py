"""The REST channel the website and tests talk to (/webhooks/rest/webhook) and the socket.io channel
for other chat widgets: both check what they are sent and always answer."""
import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple, Union

import yaml

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request

from clinic.safety import CRISIS, EMERGENCY, classify
from clinic.settings import PROJECT_ROOT, clinic_details, load
from clinic.text_patterns import UNSTORABLE

logger = logging.getLogger(__name__)

SAFETY_REPLIES_FILE = PROJECT_ROOT / "data" / "safety_replies.yml"

MAX_SENDER_CHARS = 128
# Far beyond the 500 characters the model reads (MessageGuard); bounds what a conversation stores.
MAX_STORED_MESSAGE_CHARS = 5000
SENDER_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]")
USAGE = 'Send a JSON object like {"sender": "visitor-1", "message": "Is it safe?"}.'


def unavailable_reply() -> str:
    phone = load()["clinic"]["phone"]
    return (
        "Sorry, I can't answer that right now because of a technical problem on our side. "
        f"Please try again in a moment, or call the clinic at {phone}."
    )


def reply_without_assistant(text: str) -> str:
    """What to say when the assistant produced nothing: the crisis or emergency reply if the message
    is one (safety must not depend on the action server), else a polite apology with the phone."""
    category = classify(text)
    if category in (CRISIS, EMERGENCY):
        responses = yaml.safe_load(SAFETY_REPLIES_FILE.read_text(encoding="utf-8"))["responses"]
        return responses[f"utter_{category}"][0]["text"].format(**clinic_details())
    return unavailable_reply()


def checked_fields(sender: Any, message: Any) -> Union[Tuple[str, str], str]:
    """(sender, message) made safe to hand to Rasa, or what is wrong with them."""
    if not isinstance(message, str):
        return f'"message" must be a string. {USAGE}'
    if not isinstance(sender, (str, int)) or isinstance(sender, bool):
        return f'"sender" must be a string. {USAGE}'
    sender = SENDER_UNSAFE.sub("-", str(sender))
    if not sender or len(sender) > MAX_SENDER_CHARS:
        return f'"sender" must be 1 to {MAX_SENDER_CHARS} characters. {USAGE}'
    return sender, UNSTORABLE.sub("", message)[:MAX_STORED_MESSAGE_CHARS]


def checked_body(raw: bytes) -> Union[Dict[str, Any], str]:
    """The request body made safe to hand to Rasa, or what is wrong with it (for a 400 reply)."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        return f"The body is not JSON. {USAGE}"
    if not isinstance(body, dict):
        return f"The body must be a JSON object. {USAGE}"
    fields = checked_fields(body.get("sender", "default"), body.get("message"))
    if isinstance(fields, str):
        return fields
    sender, message = fields
    return {**body, "sender": sender, "message": message}


async def handle_with_a_reply(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage,
                              replied: Callable[[], bool]) -> None:
    """Lets the assistant handle the message; if it sent nothing, sends reply_without_assistant."""
    try:
        await on_new_message(message)
    finally:
        if not replied():
            await message.output_channel.send_text_message(message.sender_id, reply_without_assistant(message.text or ""))


class ClinicRestInput(RestInput):
    """Rasa's REST channel, which refuses malformed requests with a short JSON error (never a 500),
    bounds and sanitises sender ids and messages, and sends a polite reply with the clinic's phone
    number whenever the assistant produced none (for example when the action server is down)."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answer_always(message: UserMessage) -> None:
            channel = message.output_channel
            replied = (lambda: bool(channel.messages)) if isinstance(channel, CollectingOutputChannel) else (lambda: True)
            await handle_with_a_reply(on_new_message, message, replied)

        blueprint = super().blueprint(answer_always)

        @blueprint.middleware("request")
        async def check_request(request: Request) -> Optional[response.HTTPResponse]:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            body = checked_body(request.body)
            if isinstance(body, str):
                return response.json({"error": body}, status=400)
            request.parsed_json = body
            return None

        return blueprint


class ClinicSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with the REST channel's checks: a message whose session id or text is of
    the wrong type or size is dropped (and logged), messages are bounded and cleaned, and the visitor
    always gets an answer (the clinic's phone number when the assistant produced none)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def checked_and_answered(message: UserMessage) -> None:
            channel = message.output_channel
            fields = checked_fields(message.sender_id, message.text)
            if isinstance(fields, str):
                logger.info("socket.io message refused: %s", fields.split(".")[0])
                return  # nowhere safe to answer: the session id itself is what is wrong
            message.sender_id, message.text = fields
            sent = []
            send = channel._send_message  # every SocketIOOutput reply goes through this

            async def counted(recipient_id: Text, reply: Any) -> None:
                sent.append(reply)
                await send(recipient_id, reply)

            channel._send_message = counted
            await handle_with_a_reply(on_new_message, message, lambda: bool(sent))

        blueprint = super().blueprint(checked_and_answered)

        # Replaces Rasa's handler, which calls python-socketio 5.18's enter_room (a coroutine) without
        # awaiting it: the visitor never joined their session's room, so no reply ever reached them.
        @self.sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            fields = checked_fields(requested, "") if requested else None
            session_id = fields[0] if isinstance(fields, tuple) else uuid.uuid4().hex
            if self.session_persistence:
                await self.sio.enter_room(sid, session_id, namespace=self.namespace)
            await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return blueprint
