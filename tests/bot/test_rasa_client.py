"""bot.rasa_client.RasaClient against Rasa's REST webhook, faked with httpx.MockTransport."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import Counter

import httpx
import pytest

from bot.rasa_client import DialogueError, RasaClient
from tests.bot.helpers import PROJECT_DIR, RASA_URL, FakeRasa, raising

URLS = tuple(f"http://rasa-{i}.test:5005" for i in range(4))
IDS = [f"web:{i:04d}" for i in range(400)]


async def test_posts_one_turn_to_the_rest_webhook() -> None:
    rasa = FakeRasa(replies=[{"text": "Hi!"}])
    client = rasa.client()
    replies = await client.send(sender="web:abc", message="hello", metadata={"lang": "en"})
    await client.aclose()

    assert replies == [{"recipient_id": "web:abc", "text": "Hi!"}]
    [request] = rasa.requests
    assert request.method == "POST"
    assert str(request.url) == f"{RASA_URL}/webhooks/rest/webhook"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "sender": "web:abc",
        "message": "hello",
        "metadata": {"lang": "en"},
    }


async def test_non_ascii_text_reaches_rasa_intact() -> None:
    rasa = FakeRasa()
    client = rasa.client()
    await client.send(sender="web:ñ", message="¿Cuándo? 👍", metadata={})
    assert rasa.bodies[0]["message"] == "¿Cuándo? 👍"
    assert rasa.bodies[0]["sender"] == "web:ñ"


async def test_empty_reply_list_is_valid() -> None:
    client = FakeRasa(replies=[]).client()
    assert await client.send(sender="s", message="m", metadata={}) == []


def test_at_least_one_url_required() -> None:
    with pytest.raises(ValueError):
        RasaClient(urls=())


def test_single_replica_gets_everything() -> None:
    client = RasaClient(urls=(RASA_URL,), transport=httpx.MockTransport(FakeRasa().handler))
    assert {client.replica_for(i) for i in IDS} == {RASA_URL}


def test_replica_routing_is_stable_and_spread() -> None:
    a = RasaClient(urls=URLS, transport=httpx.MockTransport(FakeRasa().handler))
    b = RasaClient(urls=URLS, transport=httpx.MockTransport(FakeRasa().handler))
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
        "from bot.rasa_client import RasaClient\n"
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
    rasa = FakeRasa()
    client = rasa.client(URLS)
    for sender in IDS[:40]:
        await client.send(sender=sender, message="hi", metadata={})
    await client.aclose()
    hosts = [f"http://{r.url.host}:{r.url.port}" for r in rasa.requests]
    assert hosts == [client.replica_for(s) for s in IDS[:40]]
    assert len(set(hosts)) > 1


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
)
async def test_transport_errors_become_dialogue_error(exc: Exception) -> None:
    client = FakeRasa(respond=raising(exc)).client()
    with pytest.raises(DialogueError, match="unreachable") as info:
        await client.send(sender="s", message="m", metadata={})
    assert info.value.__cause__ is exc


async def test_connection_refused_on_loopback() -> None:
    # A real socket: nothing listens on this port any more.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = RasaClient(urls=(f"http://127.0.0.1:{port}",), timeout_s=2.0)
    with pytest.raises(DialogueError, match="unreachable"):
        await client.send(sender="s", message="m", metadata={})
    assert await client.healthy() is False
    await client.aclose()


@pytest.mark.parametrize("status", [400, 404, 500, 502, 503])
async def test_http_errors_become_dialogue_error(status: int) -> None:
    client = FakeRasa(respond=lambda r: httpx.Response(status, json=[])).client()
    with pytest.raises(DialogueError, match=str(status)):
        await client.send(sender="s", message="m", metadata={})


@pytest.mark.parametrize(
    "content", [b"<html>Bad Gateway</html>", b"", b"[{'text': 'hi'}]", b"\xff\xfe\x00garbage"]
)
async def test_invalid_json_becomes_dialogue_error(content: bytes) -> None:
    client = FakeRasa(respond=lambda r: httpx.Response(200, content=content)).client()
    with pytest.raises(DialogueError, match="invalid JSON"):
        await client.send(sender="s", message="m", metadata={})


@pytest.mark.parametrize(
    "body",
    [{"text": "hi"}, "hi", None, 3, [{"text": "ok"}, "stray"], [["text", "hi"]], [None]],
)
async def test_wrong_shape_becomes_dialogue_error(body: object) -> None:
    content = json.dumps(body).encode()
    client = FakeRasa(respond=lambda r: httpx.Response(200, content=content)).client()
    with pytest.raises(DialogueError, match="unexpected shape"):
        await client.send(sender="s", message="m", metadata={})


async def test_healthy_when_every_replica_answers() -> None:
    rasa = FakeRasa()
    client = rasa.client(URLS)
    assert await client.healthy() is True
    assert sorted(str(r.url) for r in rasa.requests) == sorted(u + "/" for u in URLS)
    assert {r.method for r in rasa.requests} == {"GET"}


async def test_unhealthy_when_one_replica_fails() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rasa-2.test":
            return httpx.Response(503)
        return httpx.Response(200, text="Hello from Rasa")

    assert await FakeRasa(respond=respond).client(URLS).healthy() is False


async def test_unhealthy_when_one_replica_is_unreachable() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rasa-3.test":
            raise httpx.ConnectError("refused")
        return httpx.Response(200, text="Hello from Rasa")

    assert await FakeRasa(respond=respond).client(URLS).healthy() is False
