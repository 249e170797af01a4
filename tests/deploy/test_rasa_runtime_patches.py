"""faro_rasa_speedups' run-time patches of Rasa: same answers, less work.

Runs in the Rasa environment on the repository's copy of the module: the
trained Faro model parses and predicts the same with the sequential graph
runner as with dask's, and endpoint requests keep one connection.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

GRAPH_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import UserUttered
    import faro_rasa_speedups

    TEXTS = ["hola", "is the app down?", "¿cuándo vuelve el servicio?", "my card is declined",
             "I want to talk to a person", "what's the capital of France?", "thanks", "",
             '/choose_faq{"faq_id":"card-payments-failing"}', "/request_human"]

    async def run(agent):
        out, started = [], time.perf_counter()
        for text in TEXTS:
            processor = agent.processor
            parsed = await processor.parse_message(UserMessage(text, sender_id="probe"))
            tracker = await processor.fetch_tracker_and_update_session("probe-" + text)
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
            prediction = processor._predict_next_with_tracker(tracker)
            out.append({"parse": {k: parsed.get(k) for k in ("intent", "entities",
                                                              "intent_ranking")},
                        "policy": prediction.policy_name,
                        "probabilities": [round(p, 9) for p in prediction.probabilities]})
        return out, (time.perf_counter() - started) * 1000 / len(TEXTS)

    async def main():
        agent = Agent.load(sys.argv[1])
        original, dask_ms = await run(agent)
        original2, dask_ms = await run(agent)
        faro_rasa_speedups.install_runtime_patches()
        assert DaskGraphRunner.run is faro_rasa_speedups._sequential_run
        patched, _ = await run(agent)
        patched, seq_ms = await run(agent)
        print(json.dumps({"original": original, "patched": patched,
                          "dask_ms": dask_ms, "seq_ms": seq_ms}))

    asyncio.run(main())
    """
)

REQUEST_PROBE = textwrap.dedent(
    """
    import asyncio, json
    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig
    import faro_rasa_speedups

    faro_rasa_speedups.install_runtime_patches()
    peers, seen = set(), []

    async def webhook(request):
        peers.add(request.transport.get_extra_info("peername"))
        seen.append((request.method, request.query.get("token"), request.content_type,
                     await request.json()))
        if request.query.get("fail"):
            return web.json_response({"error": "no"}, status=400)
        return web.json_response({"events": [], "echo": seen[-1][3]})

    async def main():
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="s3cret")
        answers = [await endpoint.request(json={"n": n}) for n in range(5)]
        try:
            await endpoint.request(json={"n": 5}, params={"fail": "1"})
            failed = None
        except ClientResponseError as exc:
            failed = exc.status
        await runner.cleanup()
        print(json.dumps({"answers": answers, "seen": seen, "connections": len(peers),
                          "failed": failed}))

    asyncio.run(main())
    """
)


def _rasa(code: str, *args: str) -> dict[str, object]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment is not set up (scripts/setup)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "deploy" / "rasa"), "PYTHONWARNINGS": "ignore"}
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", code, *args],
        capture_output=True, text=True, env=env, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_sequential_runner_parses_and_predicts_as_dask_does() -> None:
    models = sorted((ROOT / ".faro" / "models").glob("faro-*.tar.gz"), key=os.path.getmtime)
    if not models:
        pytest.skip("no trained model: run `faro train`")
    out = _rasa(GRAPH_PROBE, str(models[-1]))
    assert out["patched"] == out["original"]
    intents = [o["parse"]["intent"]["name"] for o in out["original"]]  # type: ignore[attr-defined]
    assert "request_human" in intents and len(set(intents)) > 3  # a real model answered
    # How much faster it is (out["seq_ms"] vs out["dask_ms"]) is a benchmark figure
    # (bench/README.md), not asserted: a timed test fails on a loaded machine.


def test_endpoint_requests_keep_one_connection_and_behave_as_rasas() -> None:
    out = _rasa(REQUEST_PROBE)
    assert out["answers"] == [{"events": [], "echo": {"n": n}} for n in range(5)]
    seen = out["seen"]
    assert isinstance(seen, list)
    assert {(m, t, c) for m, t, c, _ in seen} == {("POST", "s3cret", "application/json")}
    assert out["connections"] == 1
    assert out["failed"] == 400


TURN_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    import yaml
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses
    import faro_rasa_speedups

    texts = []
    for item in yaml.safe_load(open(sys.argv[2]))["nlu"]:
        texts += [line.strip()[2:] for line in item["examples"].splitlines()
                  if line.strip().startswith("- ")]

    async def parse_all(agent):
        out = []
        for text in texts:
            parsed = await agent.processor.parse_message(UserMessage(text, sender_id="p"))
            out.append({k: parsed.get(k) for k in ("intent", "entities", "intent_ranking")})
        return out

    def facts(agent):
        names = sorted({c.type_name for c in all_subclasses(Event)})
        return {"classes": [Event.resolve_by_type(n).__qualname__ for n in names],
                "unknown": Event.resolve_by_type("no-such-event", Event).__name__,
                "empty": [agent.domain.is_empty(), Domain.empty().is_empty()]}

    async def main():
        agent = Agent.load(sys.argv[1])
        original, original_facts = await parse_all(agent), facts(agent)
        faro_rasa_speedups.install_runtime_patches()
        patched, patched_facts = await parse_all(agent), facts(agent)
        node = agent.processor.graph_runner._instantiated_nodes["run_CountVectorsFeaturizer1"]
        import logging, rasa.core.processor
        value, log_copy = [{"a": 1}], rasa.core.processor.copy.deepcopy
        logging.getLogger("rasa").setLevel(logging.INFO)
        at_info = log_copy(value) is value
        logging.getLogger("rasa").setLevel(logging.DEBUG)
        at_debug = log_copy(value)
        print(json.dumps({"log_copy": [at_info, at_debug is value, at_debug == value],
                          "original": original, "patched": patched,
                          "original_facts": original_facts, "patched_facts": patched_facts,
                          "sentence_only": node._component.__dict__.get("_faro_sentence_only"),
                          "texts": len(texts)}))

    asyncio.run(main())
    """
)


def test_the_turn_patches_parse_the_holdout_and_resolve_events_as_rasa_does() -> None:
    models = sorted((ROOT / ".faro" / "models").glob("faro-*.tar.gz"), key=os.path.getmtime)
    if not models:
        pytest.skip("no trained model: run `faro train`")
    out = _rasa(TURN_PROBE, str(models[-1]), str(ROOT / "tests" / "rasa" / "nlu_holdout.yml"))
    assert isinstance(out["texts"], int) and out["texts"] > 100
    assert out["sentence_only"] is True  # the featurizers did skip the sequence features
    assert out["patched"] == out["original"]  # same intents, confidences and rankings
    assert out["patched_facts"] == out["original_facts"]
    assert out["original_facts"]["empty"] == [False, True]  # type: ignore[index]
    # debug log arguments are copied only when Rasa logs at DEBUG
    assert out["log_copy"] == [True, False, True]


LEAN_PROBE = textwrap.dedent(
    """
    import asyncio, json
    import aiohttp
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig
    import faro_rasa_speedups

    faro_rasa_speedups.install_runtime_patches()
    ANSWERS = {
        "/plain": b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\n"
                  b"Content-Length: 2\\r\\n\\r\\nok",
        "/empty": b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
                  b"Content-Length: 0\\r\\n\\r\\n",
        "/chunked": b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json; charset=utf-8\\r\\n"
                    b"Transfer-Encoding: chunked\\r\\n\\r\\n6\\r\\n{\\"a\\": \\r\\n"
                    b"5\\r\\n\\"\\xc3\\xb1\\"}\\r\\n0\\r\\n\\r\\n",
        "/close": b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
                  b"Connection: close\\r\\n\\r\\n{\\"closed\\": true}",
        "/rejected": b"HTTP/1.1 400 Bad Request\\r\\nContent-Type: application/json\\r\\n"
                     b"Content-Length: 16\\r\\n\\r\\n{\\"error\\": \\"no!\\"}",
    }
    connections, requests = [], []

    async def serve(reader, writer):
        connections.append(writer)
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n") if not reader.at_eof() else b""
            if not head:
                break
            lines = head.decode().split("\\r\\n")
            length = [int(l.split(":")[1]) for l in lines if l.lower().startswith("content-length")]
            body = await reader.readexactly(length[0])
            path = lines[0].split()[1]
            requests.append([lines[0], sorted(l.split(":")[0] for l in lines[1:] if l),
                             json.loads(body)])
            if path.startswith("/slow"):
                await asyncio.sleep(5)
            writer.write(ANSWERS[path.split("?")[0]])
            await writer.drain()
            if path.startswith("/close"):
                writer.close()
                break

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}", token="a b&c")
        out = {}
        for path in ("plain", "empty", "chunked", "close", "chunked"):
            out[path] = await endpoint.request(json={"path": path, "n": "ñ"}, subpath=path)
        out["connections"] = len(connections)  # the closed one was not reused
        try:
            await endpoint.request(json={}, subpath="rejected")
        except ClientResponseError as exc:
            out["rejected"] = [exc.status, json.loads(exc.text)]
        try:
            await endpoint.request(json={}, subpath="slow", timeout=0.2)
        except asyncio.TimeoutError:
            out["slow"] = "timeout"
        server.close()
        await server.wait_closed()
        for writer in connections:
            writer.close()
        gone = EndpointConfig(f"http://127.0.0.1:{port}")
        try:
            await gone.request(json={})
        except aiohttp.ClientConnectionError:
            out["gone"] = "ClientConnectionError"
        out["requests"] = requests[:2]
        print(json.dumps(out))

    asyncio.run(main())
    """
)


def test_action_calls_on_the_lean_connection_answer_as_aiohttp_does() -> None:
    out = _rasa(LEAN_PROBE)
    assert out["plain"] is None and out["empty"] is None  # not JSON / no body: None
    assert out["chunked"] == {"a": "ñ"}
    assert out["close"] == {"closed": True}
    assert out["connections"] == 2  # a new connection after the server closed one
    assert out["rejected"] == [400, {"error": "no!"}]
    assert out["slow"] == "timeout"
    assert out["gone"] == "ClientConnectionError"
    # the request aiohttp would send: the token in the query, its headers, the JSON body
    assert out["requests"] == [
        [
            "POST /plain?token=a+b%26c HTTP/1.1",
            sorted(["Accept", "Accept-Encoding", "Content-Length", "Content-Type", "Host",
                    "User-Agent"]),
            {"path": "plain", "n": "ñ"},
        ],
        [
            "POST /empty?token=a+b%26c HTTP/1.1",
            sorted(["Accept", "Accept-Encoding", "Content-Length", "Content-Type", "Host",
                    "User-Agent"]),
            {"path": "empty", "n": "ñ"},
        ],
    ]  # fmt: skip
