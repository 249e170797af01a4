"""bot.http: the one body reader, the one error type and its JSON handlers; and the real
endpoints refusing nested and oversized bodies (400/413, never 500) without acting on them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import sqlalchemy as sa
from rasa_sdk import Action
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.channels.web import MAX_BODY_BYTES, SessionSigner, chat_routes
from bot.channels.web_history import WebHistory, web_messages, web_sessions
from bot.channels.web_push import PushHub
from bot.db import Database
from bot.http import (
    EXCEPTION_HANDLERS,
    MAX_DEPTH,
    HttpError,
    install_error_handlers,
    nesting_depth,
    parse_json,
    read_json,
)
from bot.rasa.action_server import MAX_ACTION_CALL_BYTES, actions_route
from bot.status.live import LiveStatus
from bot.status.receiver import MAX_WEBHOOK_BYTES, webhook_route
from tests.bot.helpers import FakeConversation, action_call
from tests.helpers.status_builders import FakeClock, snapshot, summary

LIMIT = 100
NESTED_ARRAY = b"[" * 5000 + b"]" * 5000
NESTED_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
DEEP = "body is nested too deeply (more than 64 levels)"


async def echo(request: Request) -> Response:
    return JSONResponse({"got": await read_json(request, max_bytes=LIMIT)})


async def echo_list(request: Request) -> Response:
    return JSONResponse({"got": await read_json(request, max_bytes=LIMIT, kind=list)})


async def optional(request: Request) -> Response:
    return JSONResponse({"got": await read_json(request, max_bytes=LIMIT, required=False)})


async def refuse(request: Request) -> Response:
    raise HttpError(429, "slow down", headers={"Retry-After": "7"}, retry_after=7)


async def crash(request: Request) -> Response:
    raise RuntimeError("secret detail /etc/passwd")


ROUTES = [
    Route("/echo", echo, methods=["POST"]),
    Route("/list", echo_list, methods=["POST"]),
    Route("/optional", optional, methods=["POST"]),
    Route("/refuse", refuse),
    Route("/crash", crash),
]


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = Starlette(routes=ROUTES, exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    prefix, suffix = b'{"t": "', b'"}'
    return prefix + b"a" * (size - len(prefix) - len(suffix)) + suffix


async def asgi_post(
    app: Starlette, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, Any, int]:
    """POST ``chunks`` straight through ASGI: (status, JSON body, chunks the app read)."""
    delivered = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered < len(chunks):
            delivered += 1
            return {"type": "http.request", "body": chunks[delivered - 1],
                    "more_body": delivered < len(chunks)}  # fmt: skip
        return {"type": "http.disconnect"}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), delivered


# --- the reader -------------------------------------------------------------------------


def test_a_body_of_exactly_the_limit_is_read(client: TestClient) -> None:
    r = client.post("/echo", content=padded(LIMIT))
    assert r.status_code == 200 and r.json() == {"got": {"t": "a" * (LIMIT - 9)}}


def test_one_byte_over_the_limit_is_413(client: TestClient) -> None:
    r = client.post("/echo", content=padded(LIMIT + 1))
    assert r.status_code == 413
    assert r.json() == {"error": f"body too large (at most {LIMIT} bytes)"}


def test_a_chunked_body_without_content_length_is_capped_too(client: TestClient) -> None:
    ok = client.post("/echo", content=iter([padded(LIMIT)[:50], padded(LIMIT)[50:]]))
    assert ok.status_code == 200 and "content-length" not in ok.request.headers
    big = client.post("/echo", content=iter([padded(LIMIT)[:50], padded(LIMIT)[50:], b" "]))
    assert big.status_code == 413 and "content-length" not in big.request.headers


async def test_an_oversized_stream_is_refused_without_reading_it_all() -> None:
    app = Starlette(routes=ROUTES, exception_handlers=EXCEPTION_HANDLERS)
    status, body, read = await asgi_post(app, "/echo", [b"[" + b" " * 60] * 1000, [])
    assert status == 413 and read == 2, f"read {read} chunks before refusing"


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    app = Starlette(routes=ROUTES, exception_handlers=EXCEPTION_HANDLERS)
    status, _, read = await asgi_post(app, "/echo", [b"{}"], [(b"content-length", b"101")])
    assert status == 413 and read == 0


@pytest.mark.parametrize("declared", [b"2", b"50", b"-1", b"1e2", b"abc", b"9" * 30])
async def test_a_lying_or_malformed_content_length_is_400(declared: bytes) -> None:
    app = Starlette(routes=ROUTES, exception_handlers=EXCEPTION_HANDLERS)
    body = b'{"t": "12345"}'  # 14 bytes, never what is declared
    status, answer, _ = await asgi_post(app, "/echo", [body], [(b"content-length", declared)])
    assert status == 400
    assert answer["error"] in ("invalid Content-Length", "body does not match Content-Length")


@pytest.mark.parametrize(
    "body", [b"\xff\xfe{}", b'{"t": "\xc3\x28"}', b'{"t": "\xed\xa0\x80"}', b"\xef\xbb\xbf{}"]
)
def test_invalid_utf8_is_400(client: TestClient, body: bytes) -> None:
    r = client.post("/echo", content=body)
    assert r.status_code == 400 and r.json() == {"error": "body must be JSON"}


@pytest.mark.parametrize("body", [b"", b"not json", b"{", b"{'t': 1}", b"NaN-", b"[1] [2]"])
def test_non_json_is_400(client: TestClient, body: bytes) -> None:
    r = client.post("/echo", content=body)
    assert r.status_code == 400 and r.json() == {"error": "body must be JSON"}


def test_a_number_past_pythons_digit_limit_is_400_not_500() -> None:
    with pytest.raises(HttpError) as refused:
        parse_json(b'{"n": ' + b"1" * 5000 + b"}")
    assert refused.value.status == 400 and refused.value.message == "body must be JSON"


@pytest.mark.parametrize(
    ("path", "body"),
    [("/array", NESTED_ARRAY), ("/object", NESTED_OBJECT)],
    ids=["array", "object"],
)
def test_a_5000_deep_body_is_400_not_a_crash(path: str, body: bytes) -> None:
    async def array(request: Request) -> Response:
        return JSONResponse({"got": await read_json(request, max_bytes=100_000, kind=list)})

    async def obj(request: Request) -> Response:
        return JSONResponse({"got": await read_json(request, max_bytes=100_000)})

    app = Starlette(
        routes=[Route("/array", array, methods=["POST"]), Route("/object", obj, methods=["POST"])]
    )
    install_error_handlers(app)
    with TestClient(app) as c:  # raises on a server error: a 500 would fail here
        r = c.post(path, content=body)
    assert r.status_code == 400 and r.json() == {"error": DEEP}


def test_depth_up_to_the_cap_is_fine_and_brackets_in_strings_do_not_count(
    client: TestClient,
) -> None:
    assert nesting_depth(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) == MAX_DEPTH
    assert nesting_depth(b'{"a": "[[[[{{{{", "b": ["\\"]]][[["]}') == 2
    assert nesting_depth(b'["\\\\", [[]]]') == 3  # an escaped backslash does not hide a quote
    assert nesting_depth(NESTED_OBJECT) == 5000
    stringy = json.dumps({"t": "[" * 80}).encode()
    assert json.loads(stringy)["t"] == "[" * 80 and len(stringy) <= LIMIT
    assert client.post("/echo", content=stringy).status_code == 200


def test_the_reader_refuses_one_level_past_the_cap() -> None:
    async def deep(request: Request) -> Response:
        return JSONResponse({"got": await read_json(request, max_bytes=10_000, kind=list)})

    app = Starlette(routes=[Route("/deep", deep, methods=["POST"])])
    install_error_handlers(app)
    with TestClient(app) as c:
        at_cap = c.post("/deep", content=b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
        past = c.post("/deep", content=b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert at_cap.status_code == 200
    assert past.status_code == 400 and past.json() == {"error": DEEP}


@pytest.mark.parametrize("body", [[], ["t"], "hi", 3, None, True])
def test_a_non_object_is_400(client: TestClient, body: Any) -> None:
    r = client.post("/echo", content=json.dumps(body).encode())
    assert r.status_code == 400 and r.json() == {"error": "body must be a JSON object"}


def test_kind_list_wants_an_array(client: TestClient) -> None:
    assert client.post("/list", content=b"[1, 2]").json() == {"got": [1, 2]}
    r = client.post("/list", content=b"{}")
    assert r.status_code == 400 and r.json() == {"error": "body must be a JSON array"}


def test_an_optional_body_may_be_empty_but_not_garbage(client: TestClient) -> None:
    assert client.post("/optional").json() == {"got": {}}
    assert client.post("/optional", content=b"[").status_code == 400


# --- the error type and handlers --------------------------------------------------------


def test_an_http_error_is_json_with_its_extras_and_headers(client: TestClient) -> None:
    r = client.get("/refuse")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.json() == {"error": "slow down", "retry_after": 7}


def test_an_unexpected_error_is_a_bare_500_and_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.http")
    r = client.get("/crash")
    assert r.status_code == 500 and r.json() == {"error": "internal error"}
    assert "secret detail" not in r.text
    [record] = [rec for rec in caplog.records if rec.name.startswith("bot.http")]
    assert record.exc_info is not None and "crash" in record.getMessage()


def test_without_the_handlers_an_http_error_keeps_its_status() -> None:
    with TestClient(Starlette(routes=ROUTES)) as c:
        r = c.get("/refuse")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"


# --- the real endpoints: nested 400, oversized 413, and nothing done --------------------

SECRET = "test-session-secret"
TOKEN = "shared-action-token"
WEBHOOK_TOKEN = "s3cret-token-0123456789abcdef"


@pytest.fixture
def history() -> Iterator[WebHistory]:
    h = WebHistory(Database.open("sqlite://").engine)
    yield h
    h.dispose()


@pytest.fixture
def fake() -> FakeConversation:
    return FakeConversation()


@pytest.fixture
def web(fake: FakeConversation, history: WebHistory) -> Iterator[TestClient]:
    routes = chat_routes(conversation=fake, signer=SessionSigner(SECRET), hub=PushHub(history))
    with TestClient(Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)) as c:
        yield c


def rows(history: WebHistory, table: sa.Table) -> int:
    """Rows in one of the history's tables: a refused request must add none."""
    with history._engine.connect() as conn:  # the history has no count of its own
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


WEB_NESTED = [NESTED_ARRAY, b'{"a":' * 2000 + b"1" + b"}" * 2000]  # both under 16 KiB


@pytest.mark.parametrize("path", ["/api/chat", "/api/session"])
@pytest.mark.parametrize("body", WEB_NESTED, ids=["array", "object"])
def test_web_nested_body_is_400_with_cors_and_no_turn(
    web: TestClient, fake: FakeConversation, history: WebHistory, path: str, body: bytes
) -> None:
    assert len(body) <= MAX_BODY_BYTES
    origin = "http://testserver"  # the page's own origin: allowed
    r = web.post(path, content=body, headers={"content-type": "application/json",
                                              "origin": origin})  # fmt: skip
    assert r.status_code == 400 and r.json() == {"error": DEEP}
    assert r.headers["access-control-allow-origin"] == origin
    assert fake.turns == [] and rows(history, web_sessions) == rows(history, web_messages) == 0


@pytest.mark.parametrize("path", ["/api/chat", "/api/session"])
def test_web_oversized_body_is_413_with_cors_and_no_turn(
    web: TestClient, fake: FakeConversation, history: WebHistory, path: str
) -> None:
    body = json.dumps({"text": "a" * MAX_BODY_BYTES}).encode()
    r = web.post(path, content=body, headers={"origin": "http://testserver"})
    assert r.status_code == 413 and "error" in r.json()
    assert r.headers["access-control-allow-origin"] == "http://testserver"
    assert fake.turns == [] and rows(history, web_sessions) == rows(history, web_messages) == 0


class Recorder(Action):
    """Records that it ran: a refused call must not reach it."""

    ran: list[str] = []

    def name(self) -> str:
        return "action_echo"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        Recorder.ran.append(tracker.sender_id)
        return []


@pytest.fixture
def actions_client() -> Iterator[TestClient]:
    Recorder.ran = []
    app = Starlette(
        routes=[actions_route(registered=[Recorder()], token=TOKEN)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("body", [NESTED_ARRAY, NESTED_OBJECT], ids=["array", "object"])
def test_action_endpoint_nested_body_is_400(actions_client: TestClient, body: bytes) -> None:
    r = actions_client.post(f"/webhook?token={TOKEN}", content=body)
    assert r.status_code == 400 and r.json() == {"error": DEEP}
    assert Recorder.ran == []


def test_action_endpoint_oversized_body_is_413(actions_client: TestClient) -> None:
    good = actions_client.post(f"/webhook?token={TOKEN}", json=action_call("action_echo"))
    assert good.status_code == 200
    assert Recorder.ran != []  # the action does run for a good call
    Recorder.ran = []
    call = action_call("action_echo", text="a" * MAX_ACTION_CALL_BYTES)
    r = actions_client.post(f"/webhook?token={TOKEN}", json=call)
    assert r.status_code == 413 and Recorder.ran == []


@pytest.fixture
def live() -> LiveStatus:
    status = LiveStatus(clock=FakeClock())
    status.accept(snapshot(summary()))
    return status


@pytest.fixture
def statuspage(live: LiveStatus) -> Iterator[TestClient]:
    app = Starlette(
        routes=[webhook_route(live, token=WEBHOOK_TOKEN)], exception_handlers=EXCEPTION_HANDLERS
    )
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("body", [NESTED_ARRAY, NESTED_OBJECT], ids=["array", "object"])
def test_statuspage_webhook_nested_body_is_400(
    statuspage: TestClient, live: LiveStatus, body: bytes
) -> None:
    before = live.snapshot
    r = statuspage.post(f"/status/webhook/{WEBHOOK_TOKEN}", content=body)
    assert r.status_code == 400 and r.json() == {"error": DEEP}
    assert live.snapshot is before


def test_statuspage_webhook_oversized_body_is_413(statuspage: TestClient, live: LiveStatus) -> None:
    before = live.snapshot
    huge = json.dumps({"incident": {"id": "x", "body": "a" * MAX_WEBHOOK_BYTES}})
    r = statuspage.post(f"/status/webhook/{WEBHOOK_TOKEN}", content=huge)
    assert r.status_code == 413 and live.snapshot is before


async def test_statuspage_webhook_stops_reading_an_oversized_chunked_body(live: LiveStatus) -> None:
    # It used to buffer the whole body when no Content-Length was sent.
    app = Starlette(
        routes=[webhook_route(live, token=WEBHOOK_TOKEN)], exception_handlers=EXCEPTION_HANDLERS
    )
    before = live.snapshot
    chunk = b" " * 64 * 1024
    status, _, read = await asgi_post(app, f"/status/webhook/{WEBHOOK_TOKEN}", [chunk] * 64, [])
    assert status == 413 and read <= 17, f"read {read} chunks of 64 KiB before refusing"
    assert live.snapshot is before
