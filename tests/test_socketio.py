"""The socket.io channel (for chat widgets other than ours), live: it answers, bounds and cleans what
it stores like the REST channel, and survives a hostile session id."""
import asyncio
import uuid
from typing import Any, Dict, List

import requests
import socketio

from clinic.serve import Assistant


async def close(client: socketio.AsyncClient) -> None:
    """Disconnects without waiting for the pending long-poll request to time out (about 29 s with
    the polling transport, which this Rasa's socket.io needs: aiohttp is too old for the websocket
    client); the server sees the same disconnect packets."""
    for namespace in client.namespaces:
        await client._send_packet(client.packet_class(socketio.packet.DISCONNECT, namespace=namespace))
    await client.eio.disconnect(abort=True)


async def converse(url: str, session_id: str, messages: List[str], wait: float = 20.0) -> List[List[Dict[str, Any]]]:
    """Sends each message in turn over socket.io; returns the bot messages that answered each."""
    client = socketio.AsyncClient()
    replies: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
    confirmed = asyncio.Event()
    client.on("bot_uttered", replies.put_nowait)
    client.on("session_confirm", lambda *_: confirmed.set())
    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), wait)
        answers = []
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
            first = await asyncio.wait_for(replies.get(), wait)
            await asyncio.sleep(0.5)  # the rest of a multi-part answer
            answers.append([first] + [replies.get_nowait() for _ in range(replies.qsize())])
        return answers
    finally:
        await close(client)


def user_texts(assistant: Assistant, sender: str) -> List[str]:
    tracker = requests.get(f"{assistant.url}/conversations/{sender}/tracker",
                           params={"token": assistant.token}, timeout=30).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_socketio_answers_and_stores_bounded_clean_messages(assistant: Assistant) -> None:
    session = f"sock-{uuid.uuid4().hex[:8]}"
    answers = asyncio.run(converse(assistant.url, session, ["is ketamin safe?", "pain\x00 " * 20000 + "\u202e"]))
    assert "supervision" in answers[0][0]["text"] or "safe" in answers[0][0]["text"].lower()
    assert answers[1] and all(a.get("text") for a in answers[1])  # a polite reply to the 120 KB message
    stored = user_texts(assistant, session)
    assert len(stored[-1]) <= 5000 and "\x00" not in stored[-1] and "\u202e" not in stored[-1]


def test_a_hostile_session_id_is_refused_and_the_channel_keeps_working(assistant: Assistant) -> None:
    async def hostile() -> None:
        client = socketio.AsyncClient()
        await client.connect(assistant.url, socketio_path="/socket.io", transports=["polling"])
        await client.emit("user_uttered", {"message": "hello", "session_id": "x" * 100_000})
        await client.emit("user_uttered", {"message": "hello", "session_id": {"not": "a string"}})
        await asyncio.sleep(1)
        await close(client)

    asyncio.run(hostile())
    answers = asyncio.run(converse(assistant.url, f"sock-{uuid.uuid4().hex[:8]}", ["hello"]))
    assert answers[0][0]["text"]
