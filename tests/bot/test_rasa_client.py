"""bot.rasa.client.RasaClient against Rasa's REST webhook, faked on loopback ports."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter

import aiohttp
import pytest
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.rasa.client import DialogueError, RasaClient
from tests.bot.helpers import PROJECT_DIR
from tests.helpers.rasa_fake import HANG_UP, FakeRasa, RasaRequest, closed_port_url

URLS = tuple(f"http://rasa-{i}.test:5005" for i in range(4))
IDS = [f"web:{i:04d}" for i in range(400)]


async def test_posts_one_turn_to_the_rest_webhook() -> None:
    async with FakeRasa(replies=[{"text": "Hi!"}]) as rasa:
        client = rasa.client()
        replies = await client.send(sender="web:abc", message="hello", metadata={"lang": "en"})
        await client.aclose()

    assert replies == [{"recipient_id": "web:abc", "text": "Hi!"}]
    [request] = rasa.requests
    assert request.method == "POST"
    assert request.url == f"{rasa.url}/webhooks/rest/webhook"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "sender": "web:abc",
        "message": "hello",
        "metadata": {"lang": "en"},
    }


async def test_non_ascii_text_reaches_rasa_intact() -> None:
    async with FakeRasa() as rasa:
        client = rasa.client()
        await client.send(sender="web:ñ", message="¿Cuándo? 👍", metadata={})
        await client.aclose()
    assert rasa.bodies[0]["message"] == "¿Cuándo? 👍"
    assert rasa.bodies[0]["sender"] == "web:ñ"


async def test_empty_reply_list_is_valid() -> None:
    async with FakeRasa(replies=[]) as rasa:
        client = rasa.client()
        assert await client.send(sender="s", message="m", metadata={}) == []
        await client.aclose()


def test_at_least_one_url_required() -> None:
    with pytest.raises(ValueError):
        RasaClient(urls=())


def test_single_replica_gets_everything() -> None:
    client = RasaClient(urls=(URLS[0],))
    assert {client.replica_for(i) for i in IDS} == {URLS[0]}


def test_replica_routing_is_stable_and_spread() -> None:
    a = RasaClient(urls=URLS)
    b = RasaClient(urls=URLS)
    owners = [a.replica_for(i) for i in IDS]
    assert owners == [b.replica_for(i) for i in IDS]
    assert owners == [a.replica_for(i) for i in IDS]
    counts = Counter(owners)
    assert set(counts) == set(URLS)
    # 400 ids over 4 replicas: ~100 each; a skewed hash would show here.
    assert min(counts.values()) >= 60, counts


def test_replica_routing_is_the_same_in_another_process() -> None:
    # Replicas route by conversation in every app process: the hash must not
    # depend on Python's per-process hash seed.
    code = (
        "import json,sys\n"
        "from bot.rasa.client import RasaClient\n"
        "c = RasaClient(urls=tuple(json.loads(sys.argv[1])))\n"
        "print(json.dumps([c.replica_for(i) for i in json.loads(sys.argv[2])]))\n"
    )
    ids = IDS[:50]
    here = RasaClient(urls=URLS)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(URLS), json.dumps(ids)],
        capture_output=True, text=True, check=True, env=env, cwd=PROJECT_DIR, timeout=60,
    )  # fmt: skip
    assert json.loads(out.stdout) == [here.replica_for(i) for i in ids]


async def test_each_conversation_is_sent_to_its_replica() -> None:
    async with FakeRasa(replicas=4) as rasa:
        client = rasa.client()
        for sender in IDS[:40]:
            await client.send(sender=sender, message="hi", metadata={})
        await client.aclose()
    hosts = [f"http://{r.host}" for r in rasa.requests]
    assert hosts == [client.replica_for(s) for s in IDS[:40]]
    assert len(set(hosts)) > 1


async def _hang_up(request: RasaRequest) -> object:
    return HANG_UP


async def _too_slow(request: RasaRequest) -> Response:
    await asyncio.sleep(1.5)
    return JSONResponse([])


@pytest.mark.parametrize(
    ("respond", "error"),
    [
        (_hang_up, aiohttp.ClientPayloadError),  # peer closed the connection mid-answer
        (_too_slow, TimeoutError),  # read timeout
    ],
)
async def test_transport_errors_become_dialogue_error(respond: object, error: type) -> None:
    async with FakeRasa(respond=respond) as rasa:  # type: ignore[arg-type]
        client = rasa.client(timeout_s=0.5)
        with pytest.raises(DialogueError, match="unreachable") as info:
            await client.send(sender="s", message="m", metadata={})
        await client.aclose()
    assert isinstance(info.value.__cause__, error)


async def test_connection_refused_on_loopback() -> None:
    # A real socket: nothing listens on this port any more.
    client = RasaClient(urls=(closed_port_url(),), timeout_s=2.0)
    with pytest.raises(DialogueError, match="unreachable") as info:
        await client.send(sender="s", message="m", metadata={})
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectionError)
    assert await client.healthy() is False
    await client.aclose()


@pytest.mark.parametrize("status", [400, 404, 500, 502, 503])
async def test_http_errors_become_dialogue_error(status: int) -> None:
    async with FakeRasa(respond=lambda r: JSONResponse([], status_code=status)) as rasa:
        client = rasa.client()
        with pytest.raises(DialogueError, match=str(status)):
            await client.send(sender="s", message="m", metadata={})
        await client.aclose()


@pytest.mark.parametrize(
    "content", [b"<html>Bad Gateway</html>", b"", b"[{'text': 'hi'}]", b"\xff\xfe\x00garbage"]
)
async def test_invalid_json_becomes_dialogue_error(content: bytes) -> None:
    async with FakeRasa(respond=lambda r: Response(content)) as rasa:
        client = rasa.client()
        with pytest.raises(DialogueError, match="invalid JSON"):
            await client.send(sender="s", message="m", metadata={})
        await client.aclose()


@pytest.mark.parametrize(
    "body",
    [{"text": "hi"}, "hi", None, 3, [{"text": "ok"}, "stray"], [["text", "hi"]], [None]],
)
async def test_wrong_shape_becomes_dialogue_error(body: object) -> None:
    content = json.dumps(body).encode()
    async with FakeRasa(respond=lambda r: Response(content)) as rasa:
        client = rasa.client()
        with pytest.raises(DialogueError, match="unexpected shape"):
            await client.send(sender="s", message="m", metadata={})
        await client.aclose()


async def test_healthy_when_every_replica_answers() -> None:
    async with FakeRasa(replicas=4) as rasa:
        client = rasa.client()
        assert await client.healthy() is True
        await client.aclose()
    assert sorted(r.url for r in rasa.requests) == sorted(u + "/" for u in rasa.urls)
    assert {r.method for r in rasa.requests} == {"GET"}


async def test_unhealthy_when_one_replica_fails() -> None:
    rasa = FakeRasa(replicas=4)

    def respond(request: RasaRequest) -> Response:
        if request.host == rasa.urls[2].removeprefix("http://"):
            return Response(status_code=503)
        return PlainTextResponse("Hello from Rasa")

    rasa.respond = respond
    async with rasa:
        client = rasa.client()
        assert await client.healthy() is False
        await client.aclose()


async def test_unhealthy_when_one_replica_is_unreachable() -> None:
    async with FakeRasa(replicas=3) as rasa:
        client = rasa.client((*rasa.urls, closed_port_url()))
        assert await client.healthy() is False
        await client.aclose()


async def test_usable_again_after_aclose_in_another_event_loop() -> None:
    # TestClient runs each lifespan of an app in its own event loop; the
    # pooled session is made on first use, in the loop that uses it.
    async with FakeRasa(replies=[{"text": "ok"}]) as rasa:
        client = rasa.client()
        assert await client.send(sender="a", message="m", metadata={})
        await client.aclose()

        async def in_another_loop() -> list[dict[str, object]]:
            try:
                return await client.send(sender="b", message="m", metadata={})
            finally:
                await client.aclose()

        result = await asyncio.to_thread(asyncio.run, in_another_loop())
    assert result == [{"recipient_id": "b", "text": "ok"}]
