"""The Chatwoot bridge against a loopback fake of Chatwoot's API-channel API: a handoff
creates the conversation there with the transcript; the customer's messages follow; an agent
reply there reaches the customer once, even when the webhook is delivered twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub, WebAgentChannel
from bot.db import Database
from bot.handoff.chatwoot import WEBHOOK_PATH, ChatwootBridge, ChatwootClient, ChatwootError
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.http import EXCEPTION_HANDLERS
from bot.templates import TemplateStore
from tests.helpers.chatwoot_fake import INBOX, FakeChatwoot

ROOT = Path(__file__).resolve().parents[2]
HOOK_TOKEN = "chatwoot-callback-token"


@dataclass
class Rig:
    service: HandoffService
    bridge: ChatwootBridge
    chatwoot: FakeChatwoot
    callback: httpx.AsyncClient
    history: WebHistory


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    engine = Database.open(f"sqlite:///{tmp_path / 'faro.db'}").engine
    service = HandoffService(
        HandoffStore(engine), TemplateStore.from_paths([ROOT / "data" / "templates"])
    )
    history = WebHistory(engine)
    service.use_channels({"web": WebAgentChannel(PushHub(history))})
    async with FakeChatwoot() as chatwoot:
        client = ChatwootClient(base_url=chatwoot.url, inbox_identifier=INBOX)
        bridge = ChatwootBridge(service, client, webhook_token=HOOK_TOKEN)
        await bridge.sync()  # turned on now
        app = Starlette(routes=bridge.routes(), exception_handlers=EXCEPTION_HANDLERS)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://faro") as callback:
            yield Rig(service, bridge, chatwoot, callback, history)
        await bridge.stop()


async def deliver(rig: Rig, payload: dict[str, object], token: str = HOOK_TOKEN) -> httpx.Response:
    return await rig.callback.post(WEBHOOK_PATH, params={"token": token}, json=payload)


async def test_a_handoff_becomes_a_chatwoot_conversation_and_replies_come_back_once(
    rig: Rig,
) -> None:
    start = rig.history.start_session("s1")
    rig.service.request("web:s1", "web", "es")
    handoff = rig.service.current("web:s1")
    assert handoff is not None
    rig.service.customer_said(handoff, "me han cobrado dos veces")
    assert await rig.bridge.sync() == 3  # requested, the queue message, the customer
    [(source_id, contact)] = rig.chatwoot.contacts.items()
    assert contact["identifier"] == "web:s1"
    [conversation] = rig.chatwoot.conversations.values()
    assert conversation.source_id == source_id
    texts = rig.chatwoot.texts(conversation.id)
    assert texts[0].startswith("[bot] ") and texts[1] == "me han cobrado dos veces"

    payload = rig.chatwoot.agent_reply(conversation.id, "Hola, soy Lucía. <b>Lo miro</b>.")
    first = await deliver(rig, payload)
    again = await deliver(rig, payload)  # Chatwoot retried the webhook
    assert first.json()["status"] == "sent" and again.json() == {"status": "duplicate"}
    agent_rows = [r for r in rig.history.history("web:s1", start_id=start) if r.role == "agent"]
    assert [r.text for r in agent_rows] == ["Hola, soy Lucía. <b>Lo miro</b>."]
    notices = [r.text for r in rig.history.history("web:s1", start_id=start) if r.role == "notice"]
    assert notices == ["Ahora estás hablando con Lucía, de nuestro equipo."]
    claimed = rig.service.get(handoff.id)
    assert (claimed.state, claimed.claimed_by) == ("active", "chatwoot:Lucía")

    # the agent's own line is not echoed back; the notices and the hand-back are noted
    await rig.service.release(handoff.id, "chatwoot:Lucía")
    await rig.bridge.sync()
    texts = rig.chatwoot.texts(conversation.id)
    assert texts.count("Hola, soy Lucía. <b>Lo miro</b>.") == 1  # only the one Chatwoot has
    assert "[Faro] handoff released" in texts


async def test_callbacks_that_are_not_agent_replies_change_nothing(rig: Rig) -> None:
    rig.service.request("web:s2", "web", "en")
    await rig.bridge.sync()
    [conversation] = rig.chatwoot.conversations.values()
    payload = rig.chatwoot.agent_reply(conversation.id, "internal note", private=True)
    assert (await deliver(rig, payload)).json() == {"status": "ignored"}
    incoming = dict(payload, message_type="incoming", id=999)
    assert (await deliver(rig, incoming)).json() == {"status": "ignored"}
    unknown = rig.chatwoot.agent_reply(conversation.id, "hi")
    unknown["conversation"] = {"id": 424242}
    assert (await deliver(rig, unknown)).json() == {"status": "unknown conversation"}
    wrong = await deliver(rig, rig.chatwoot.agent_reply(conversation.id, "hi"), token="nope")
    assert wrong.status_code == 401
    handoff = rig.service.current("web:s2")
    assert handoff is not None and handoff.state == "waiting"


async def test_chatwoot_down_is_retried_without_losing_events(rig: Rig) -> None:
    rig.service.request("web:s3", "web", "en")
    rig.chatwoot.fail_next = 1
    with pytest.raises(ChatwootError, match="503"):
        await rig.bridge.sync()
    assert rig.chatwoot.contacts == {}
    assert await rig.bridge.sync() == 2
    [conversation] = rig.chatwoot.conversations.values()
    assert len(rig.chatwoot.texts(conversation.id)) == 1


def test_the_bridge_needs_all_three_settings() -> None:
    from bot.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="FARO_CHATWOOT_INBOX"):
        Settings.from_env({"FARO_CHATWOOT_URL": "https://chat.example"}, secrets=False)
    env = {
        "FARO_CHATWOOT_URL": "https://chat.example",
        "FARO_CHATWOOT_INBOX": INBOX,
        "FARO_CHATWOOT_WEBHOOK_TOKEN": HOOK_TOKEN,
    }
    assert Settings.from_env(env, secrets=False).handoff.chatwoot_inbox == INBOX
