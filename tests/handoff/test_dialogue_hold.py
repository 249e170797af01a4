"""The dialogue while a person has the conversation: turns reach the agent and Rasa's tracker,
Rasa's replies are held back; "never mind" leaves the queue; a hand-back resumes Rasa."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from starlette.responses import JSONResponse, Response

from bot.core.messages import Turn
from bot.db import Database
from bot.dialogue import RasaConversation
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.rasa.client import RasaClient
from bot.templates import TemplateStore
from tests.helpers.handoff_fakes import RecordingChannel
from tests.helpers.rasa_fake import FakeRasa, RasaRequest

TOKEN = "rasa-api-token"
ROOT = Path(__file__).resolve().parents[2]


class TinyRasa:
    """Enough of Rasa for the hold-back: REST webhook, NLU parse, pause/resume events."""

    def __init__(self, desk: HandoffService) -> None:
        self.desk = desk
        self.paused: set[str] = set()
        self.logged: list[tuple[str, str]] = []  # every user message the tracker got
        self.forget_pause = False  # a new Rasa session resets the pause

    def __call__(self, request: RasaRequest) -> Response:
        url = urlsplit(request.url)
        if url.path == "/model/parse":
            assert parse_qs(url.query)["token"] == [TOKEN]
            text = request.json()["text"]
            intent = "cancel_handoff" if text in ("never mind", "da igual") else "ask_faq"
            return JSONResponse({"text": text, "intent": {"name": intent, "confidence": 0.93}})
        if url.path.endswith("/tracker/events"):
            assert parse_qs(url.query)["token"] == [TOKEN]
            sender = unquote(url.path.split("/")[2])
            body = request.json()
            events = body if isinstance(body, list) else [body]
            for event in events:
                if event["event"] == "pause":
                    self.paused.add(sender)
                elif event["event"] == "resume":
                    self.paused.discard(sender)
                    assert events[-1] == {"event": "action", "name": "action_listen"}
            return JSONResponse({"sender_id": sender})
        body = request.json()
        sender, message, lang = body["sender"], body["message"], body["metadata"]["lang"]
        self.logged.append((sender, message))
        if self.forget_pause:
            self.paused.discard(sender)
            self.forget_pause = False
        if sender in self.paused:
            return JSONResponse([])
        if message in ("/request_human", "talk to a person"):
            reply = self.desk.request(sender, body["metadata"]["channel"], lang)
            self.paused.add(sender)  # what action_request_human's ConversationPaused does
            return JSONResponse([{"text": reply.text}])
        if message == "/cancel_handoff":
            return JSONResponse([{"text": self.desk.cancel(sender, lang).text}])
        return JSONResponse([{"text": f"bot answer to {message}"}])


@pytest.fixture
def desk(tmp_path: Path) -> HandoffService:
    db = Database.open(f"sqlite:///{tmp_path / 'faro.db'}")
    root = Path(__file__).resolve().parents[2]
    service = HandoffService(
        HandoffStore(db.engine), TemplateStore.from_paths([root / "data" / "templates"])
    )
    service.use_channels({"web": RecordingChannel()})
    return service


@pytest.fixture
async def setup(desk: HandoffService) -> AsyncIterator[tuple[RasaConversation, TinyRasa]]:
    tiny = TinyRasa(desk)
    async with FakeRasa(respond=tiny) as server:
        client = RasaClient(urls=server.urls, timeout_s=2.0, api_token=TOKEN)
        templates = TemplateStore.from_paths([ROOT / "data" / "templates"])
        conversation = RasaConversation(rasa=client, templates=templates, handoffs=desk)
        yield conversation, tiny
        await client.aclose()


def turn(text: str, payload: str | None = None, cid: str = "web:s1") -> Turn:
    return Turn(conversation_id=cid, channel="web", text=text, lang="en", payload=payload)


async def test_no_bot_reply_while_a_person_has_it_and_back_after_release(
    setup: tuple[RasaConversation, TinyRasa], desk: HandoffService
) -> None:
    conversation, tiny = setup
    [queued] = await conversation.handle(turn("talk to a person"))
    assert "No one from our team is online" in queued.text
    assert await conversation.handle(turn("my card was charged twice")) == []
    handoff = desk.current("web:s1")
    assert handoff is not None
    await desk.claim(handoff.id, "ana")
    assert await conversation.handle(turn("hello Ana?")) == []
    said = [m.text for m in desk.store.transcript(handoff.id) if m.role == "user"]
    assert said == ["my card was charged twice", "hello Ana?"]
    # Rasa's tracker got every turn
    assert [m for _, m in tiny.logged] == [
        "talk to a person",
        "my card was charged twice",
        "hello Ana?",
    ]
    await desk.release(handoff.id, "ana")
    assert "web:s1" in tiny.paused  # still paused in Rasa until the next turn
    [answer] = await conversation.handle(turn("is the app down?"))
    assert answer.text == "bot answer to is the app down?"
    assert "web:s1" not in tiny.paused
    assert not desk.store.needs_resume("web:s1")


async def test_never_mind_while_waiting_goes_back_to_the_bot(
    setup: tuple[RasaConversation, TinyRasa], desk: HandoffService
) -> None:
    conversation, tiny = setup
    await conversation.handle(turn("talk to a person"))
    [cancelled] = await conversation.handle(turn("never mind"))
    assert "out of the queue" in cancelled.text
    assert desk.current("web:s1") is None
    [answer] = await conversation.handle(turn("what about transfers"))
    assert answer.text == "bot answer to what about transfers"
    # the button does the same
    await conversation.handle(turn("", payload="/request_human"))
    [cancelled] = await conversation.handle(turn("Never mind", payload="/cancel_handoff"))
    assert "out of the queue" in cancelled.text


async def test_never_mind_to_a_person_is_for_the_person(
    setup: tuple[RasaConversation, TinyRasa], desk: HandoffService
) -> None:
    conversation, _tiny = setup
    await conversation.handle(turn("talk to a person"))
    handoff = desk.current("web:s1")
    assert handoff is not None
    await desk.claim(handoff.id, "ana")
    assert await conversation.handle(turn("never mind")) == []
    assert desk.current("web:s1") is not None


async def test_replies_rasa_sends_anyway_are_held_back_and_it_is_paused_again(
    setup: tuple[RasaConversation, TinyRasa], desk: HandoffService
) -> None:
    conversation, tiny = setup
    await conversation.handle(turn("talk to a person"))
    tiny.forget_pause = True  # e.g. the Rasa session expired and reset the pause
    assert await conversation.handle(turn("still there?")) == []
    assert "web:s1" in tiny.paused


async def test_other_conversations_are_not_held(
    setup: tuple[RasaConversation, TinyRasa], desk: HandoffService
) -> None:
    conversation, _tiny = setup
    await conversation.handle(turn("talk to a person"))
    [answer] = await conversation.handle(turn("hello", cid="web:other"))
    assert answer.text == "bot answer to hello"
