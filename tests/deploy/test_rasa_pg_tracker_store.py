"""faro_rasa_speedups.PostgreSQLTrackerStore: a conversation survives a PostgreSQL crash.

Runs in the Rasa environment, on the repository's copy of the module, against a
private PostgreSQL this test crashes and restarts (never the machine's shared
one). Rasa wraps every tracker store in ``FailSafeTrackerStore``, as its agent
does; so does the probe. Rasa's own SQL store sits next to Faro's, with the same
conversation, for comparison: after the crash its pooled connections are dead,
and its read of the conversation comes back empty (a new conversation).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scaleout.servers import PrivatePostgres

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

PROBE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted, BotUttered, SessionStarted, UserUttered,
    )
    import faro_rasa_speedups

    port = int(sys.argv[1])
    domain = Domain.from_dict({"intents": ["faq"]})
    where = dict(host="127.0.0.1", port=port, db="postgres", username="postgres")
    faro_store = faro_rasa_speedups.PostgreSQLTrackerStore(domain=domain, **where)
    stores = {
        "faro": FailSafeTrackerStore(faro_store),
        "rasa": FailSafeTrackerStore(
            SQLTrackerStore(domain=domain, dialect="postgresql", **where)),
    }
    rasas_read = faro_rasa_speedups._originals["failsafe_retrieve_full"]
    out = {"class": type(faro_store).__mro__[1].__name__}

    def step(name):  # tell the test, wait for it to do something to the server
        print(name, flush=True)
        sys.stdin.readline()

    def turn(text, t):
        return [UserUttered(text, {"name": "faq", "confidence": 0.9}, timestamp=t),
                ActionExecuted("action_answer_faq", timestamp=t + 0.1),
                BotUttered("Respuesta", {"buttons": []}, timestamp=t + 0.2),
                ActionExecuted("action_listen", timestamp=t + 0.3)]

    def dump(tracker):  # an action_listen stamped "now" is blanked out
        if tracker is None:
            return None
        events = [e.as_dict() for e in tracker.events]
        return [{**e, "timestamp": 0} if e["timestamp"] > 1e6 else e for e in events]

    def said(tracker):
        if tracker is None:
            return None
        return [e.text for e in tracker.events if isinstance(e, UserUttered)]

    async def main():
        for name, store in stores.items():
            sender = f"web:{name}"
            tracker = await store.get_or_create_tracker(sender)
            tracker.update(ActionExecuted("action_session_start", timestamp=1.0))
            tracker.update(SessionStarted(timestamp=1.0))
            for k, text in enumerate(["is login fixed", "my card is blocked"]):
                for e in [UserUttered(text, {"name": "faq", "confidence": 0.9}, timestamp=10.0 + k),
                          ActionExecuted("action_answer_faq", timestamp=10.1 + k),
                          BotUttered("answer", timestamp=10.2 + k),
                          ActionExecuted("action_listen", timestamp=10.3 + k)]:
                    tracker.update(e)
            await store.save(tracker)
            await store.retrieve(sender)  # the pool keeps a connection
        step("saved")  # the test crashes PostgreSQL and starts it again
        out["faro_after_restart"] = said(await stores["faro"].retrieve_full_tracker("web:faro"))
        out["faro_latest_session"] = said(await stores["faro"].retrieve("web:faro"))
        out["rasa_after_restart"] = said(await rasas_read(stores["rasa"], "web:rasa"))
        step("read")  # the test stops PostgreSQL
        for method in ("retrieve", "retrieve_full_tracker"):
            try:
                out[f"faro_{method}_while_down"] = said(
                    await getattr(stores["faro"], method)("web:faro"))
            except Exception as exc:
                out[f"faro_{method}_while_down"] = type(exc).__name__
        step("failed")  # the test starts PostgreSQL again
        out["faro_back"] = said(await stores["faro"].retrieve("web:faro"))
        # the same turns through Faro's store and Rasa's: every retrieval gives the same
        bare = {"faro": faro_store, "rasa": stores["rasa"]._tracker_store}
        for name, store in bare.items():
            log = out[f"{name}_turns"] = []
            sender = f"web:same-{name}"
            tracker = await store.get_or_create_tracker(sender)
            for e in [ActionExecuted("action_session_start", timestamp=1.0),
                      SessionStarted(timestamp=1.0),
                      ActionExecuted("action_listen", timestamp=1.0)]:
                tracker.update(e)
            await store.save(tracker)
            for k in range(3):
                tracker = await store.retrieve(sender)
                for e in turn(f"pregunta {k}", 10.0 + k):
                    tracker.update(e)
                await store.save(tracker)
                await store.save(tracker)  # saving again adds nothing
                log.append(dump(await store.retrieve(sender)))
            tracker = await store.retrieve(sender)  # a new session
            for e in [ActionExecuted("action_session_start", timestamp=50.0),
                      SessionStarted(timestamp=50.0),
                      ActionExecuted("action_listen", timestamp=50.0), *turn("otra", 60.0)]:
                tracker.update(e)
            await store.save(tracker)
            log.append(dump(await store.retrieve(sender)))
            log.append(dump(await store.retrieve_full_tracker(sender)))
            log.append(dump(await store.retrieve("web:nobody")))
        # the cost of one turn's retrieve + save
        for name, store in bare.items():
            started = time.perf_counter()
            for k in range(50):
                tracker = await store.get_or_create_tracker(f"web:{name}-t{k % 5}")
                for e in turn("x", 100.0 + k):
                    tracker.update(e)
                await store.save(tracker)
            out[f"{name}_ms"] = (time.perf_counter() - started) / 50 * 1000

    asyncio.run(main())
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def probe() -> Iterator[dict[str, Any]]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment is not set up (scripts/setup)")
    pg = PrivatePostgres()
    pg.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "deploy" / "rasa"), "PYTHONWARNINGS": "ignore"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.Popen(
        [str(RASA_PYTHON), "-c", PROBE, str(pg.port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None

    def crash_and_restart() -> None:
        pg.stop("immediate")
        pg.start()

    try:
        actions = {
            "saved": crash_and_restart,
            "read": lambda: pg.stop("immediate"),
            "failed": pg.start,
        }
        for line in proc.stdout:
            step = line.strip()
            if step not in actions:
                break
            actions[step]()
            proc.stdin.write("go\n")
            proc.stdin.flush()
        proc.wait(timeout=120)
        assert proc.returncode == 0, proc.stderr.read()[-3000:]  # type: ignore[union-attr]
        yield dict(json.loads(step))
    finally:
        proc.kill()
        pg.close()


def test_it_is_rasas_sql_tracker_store(probe: dict[str, Any]) -> None:
    assert probe["class"] == "SQLTrackerStore"


def test_after_a_crash_the_conversation_is_read_whole(probe: dict[str, Any]) -> None:
    said = ["is login fixed", "my card is blocked"]
    assert probe["faro_after_restart"] == said
    assert probe["faro_latest_session"] == said
    assert probe["faro_back"] == said


def test_rasas_own_store_loses_it_there(probe: dict[str, Any]) -> None:
    """What the Faro store is for: Rasa's store reads the conversation as new (None)."""
    assert probe["rasa_after_restart"] is None


def test_an_unreadable_tracker_is_an_error_not_a_new_conversation(probe: dict[str, Any]) -> None:
    assert probe["faro_retrieve_while_down"] == "OperationalError"
    assert probe["faro_retrieve_full_tracker_while_down"] == "OperationalError"


def test_every_retrieval_gives_what_rasas_own_store_gives(probe: dict[str, Any]) -> None:
    faro, rasa = probe["faro_turns"], probe["rasa_turns"]
    assert faro == rasa
    *turns, latest_session, full, nobody = faro
    assert [len(t) for t in turns] == [8, 12, 16]  # saving twice stored nothing twice
    # the latest session only (Rasa's rule: from its session_started's timestamp on)
    texts = [e.get("text") for e in latest_session if e["event"] == "user"]
    assert texts == ["otra"]
    assert len(full) == 23  # every session
    assert nobody is None


def test_a_turn_costs_less_than_with_rasas_store(probe: dict[str, Any]) -> None:
    print(
        f"retrieve + save per turn: Faro {probe['faro_ms']:.2f} ms, Rasa {probe['rasa_ms']:.2f} ms"
    )
    assert probe["faro_ms"] < probe["rasa_ms"]
