"""The app's Rasa client moves a conversation to the next replica only when its own is gone
(refused, or dropped the connection, or said 502/503), never when it is merely slow."""

from __future__ import annotations

import asyncio

import pytest
from starlette.responses import JSONResponse, Response

from bot.rasa.client import DialogueError, RasaClient
from tests.helpers.rasa_fake import FakeRasa, RasaRequest, closed_port_url

IDS = [f"web:conversation-{i}" for i in range(60)]


def test_the_takeover_order_is_stable_and_starts_with_the_owner() -> None:
    urls = ("http://a:1", "http://b:1", "http://c:1")
    client = RasaClient(urls=urls)
    for cid in IDS:
        order = client.replicas_for(cid)
        assert order[0] == client.replica_for(cid)
        assert sorted(order) == sorted(urls)
        assert RasaClient(urls=urls).replicas_for(cid) == order  # any app replica agrees


async def test_a_dead_replicas_conversations_go_to_the_next_one() -> None:
    async with FakeRasa(replicas=2, replies=[{"text": "answered"}]) as rasa:
        dead = closed_port_url()
        urls = (rasa.urls[0], dead, rasa.urls[1])
        client = RasaClient(urls=urls, timeout_s=2.0)
        owned_by_dead = [c for c in IDS if client.replica_for(c) == dead]
        assert owned_by_dead
        for cid in owned_by_dead:
            replies = await client.send(sender=cid, message="hi", metadata={})
            assert [r["text"] for r in replies] == ["answered"]
        await client.aclose()
    # each went to the replica after the dead one, once
    expected = [f"{client.replicas_for(c)[1]}" for c in owned_by_dead]
    assert [f"http://{r.host}" for r in rasa.requests] == expected


@pytest.mark.parametrize("status", [502, 503])
async def test_a_replica_starting_or_stopping_hands_the_turn_on(status: int) -> None:
    rasa = FakeRasa(replicas=2)

    def respond(request: RasaRequest) -> Response:
        if request.host == rasa.urls[0].removeprefix("http://"):
            return Response(status_code=status)
        return JSONResponse([{"text": "from the other one"}])

    rasa.respond = respond
    async with rasa:
        client = rasa.client()
        cid = next(c for c in IDS if client.replica_for(c) == rasa.urls[0])
        replies = await client.send(sender=cid, message="hi", metadata={})
        assert [r["text"] for r in replies] == ["from the other one"]
        await client.aclose()


async def test_a_slow_replica_is_not_bypassed() -> None:
    rasa = FakeRasa(replicas=2)

    async def slow(request: RasaRequest) -> Response:
        await asyncio.sleep(1.5)
        return JSONResponse([{"text": "late"}])

    rasa.respond = slow
    async with rasa:
        client = rasa.client(timeout_s=0.5)
        with pytest.raises(DialogueError, match="unreachable"):
            await client.send(sender=IDS[0], message="hi", metadata={})
        await client.aclose()
    # only its own replica saw it: two replicas never work on one conversation at once
    assert [f"http://{r.host}" for r in rasa.requests] == [client.replica_for(IDS[0])]


async def test_every_replica_gone_is_a_dialogue_error() -> None:
    client = RasaClient(urls=(closed_port_url(), closed_port_url()), timeout_s=1.0)
    with pytest.raises(DialogueError, match="unreachable"):
        await client.send(sender="s", message="m", metadata={})
    await client.aclose()
