"""faro_rasa_speedups.SQLiteTrackerStore keeps what Rasa's own SQL tracker store keeps, faster.

Runs in the Rasa environment, on the repository's copy of the module: the
same turns go to Rasa's ``SQLTrackerStore`` and to Faro's store, and every
retrieval must give the same events; each store must read the other's file.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

PROBE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered,
    )
    import faro_rasa_speedups

    folder = sys.argv[1]
    domain = Domain.from_dict({
        "intents": ["faq", "greet"],
        "slots": {"lang": {"type": "text", "mappings": [{"type": "custom"}]}},
    })
    faro = faro_rasa_speedups.SQLiteTrackerStore(domain=domain, db=f"{folder}/faro.db")
    rasa = SQLTrackerStore(domain=domain, dialect="sqlite", db=f"{folder}/rasa.db")
    stores = {"faro": faro, "rasa": rasa}
    out = {"class": type(faro).__mro__[1].__name__}

    def user(text, t):
        return UserUttered(text, {"name": "faq", "confidence": 0.9}, [],
                           metadata={"lang": "es"}, timestamp=t)

    def turn(text, t):
        return [user(text, t), ActionExecuted("action_answer_faq", timestamp=t + 0.1),
                BotUttered("Respuesta", {"buttons": []}, timestamp=t + 0.2),
                ActionExecuted("action_listen", timestamp=t + 0.3)]

    def dump(tracker):  # the first action_listen is stamped "now": blank that out
        if tracker is None:
            return None
        events = [e.as_dict() for e in tracker.events]
        return [{**e, "timestamp": 0} if e["timestamp"] > 1e6 else e for e in events]

    async def main():
        for name, store in stores.items():
            log = out[name] = []
            log.append(dump(await store.retrieve("nobody")))
            tracker = await store.get_or_create_tracker("web:a")
            for i, event in enumerate([ActionExecuted("action_session_start", timestamp=1.0),
                                       SessionStarted(timestamp=1.0),
                                       SlotSet("lang", "es", timestamp=1.0),
                                       ActionExecuted("action_listen", timestamp=1.0)]):
                tracker.update(event)
            await store.save(tracker)
            for k in range(3):
                tracker = await store.retrieve("web:a")
                for e in turn(f"pregunta {k}", 10.0 + k):
                    tracker.update(e)
                await store.save(tracker)
                await store.save(tracker)  # saving again adds nothing
                log.append(dump(await store.retrieve("web:a")))
            # a new session: retrieve gives only it, the full tracker everything
            tracker = await store.retrieve("web:a")
            for e in [ActionExecuted("action_session_start", timestamp=50.0),
                      SessionStarted(timestamp=50.0),
                      ActionExecuted("action_listen", timestamp=50.0),
                      *turn("otra", 60.0)]:
                tracker.update(e)
            await store.save(tracker)
            log.append(dump(await store.retrieve("web:a")))
            log.append(dump(await store.retrieve_full_tracker("web:a")))
            tracker = await store.retrieve("web:a")
            for e in turn("y otra", 70.0):
                tracker.update(e)
            await store.save(tracker)
            log.append(dump(await store.retrieve("web:a")))
            log.append(sorted(await store.keys()))
        # each store reads the other's file
        faro_reads_rasa = faro_rasa_speedups.SQLiteTrackerStore(
            domain=domain, db=f"{folder}/rasa.db")
        rasa_reads_faro = SQLTrackerStore(domain=domain, dialect="sqlite", db=f"{folder}/faro.db")
        out["cross"] = [dump(await faro_reads_rasa.retrieve("web:a")),
                        dump(await rasa_reads_faro.retrieve("web:a")),
                        dump(await rasa_reads_faro.retrieve_full_tracker("web:a"))]
        # the cost of one turn's retrieve + save
        for name, store in stores.items():
            started = time.perf_counter()
            for k in range(50):
                tracker = await store.get_or_create_tracker(f"web:t{k % 5}")
                for e in turn("x", 100.0 + k):
                    tracker.update(e)
                await store.save(tracker)
            out[f"{name}_ms"] = (time.perf_counter() - started) / 50 * 1000

    asyncio.run(main())
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment is not set up (scripts/setup)")
    folder = tmp_path_factory.mktemp("trackers")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "deploy" / "rasa"), "PYTHONWARNINGS": "ignore"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", PROBE, str(folder)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_it_is_rasas_sql_tracker_store(probe: dict[str, object]) -> None:
    assert probe["class"] == "SQLTrackerStore"


def test_every_retrieval_gives_what_rasas_own_store_gives(probe: dict[str, object]) -> None:
    faro, rasa = probe["faro"], probe["rasa"]
    assert isinstance(faro, list) and isinstance(rasa, list)
    assert faro == rasa
    first, *turns, latest_session, full, after, keys = faro
    assert first is None  # an unknown sender has no tracker
    assert [len(t) for t in turns] == [9, 13, 17]  # saving twice stored nothing twice
    # the latest session: from its session_started's timestamp on (Rasa's rule; the
    # first action_listen is stamped "now" and so counts as in it, for both stores)
    assert [e["event"] for e in latest_session[:3]] == ["action", "action", "session_started"]
    assert len(latest_session) == 8
    assert len(full) == 17 + 7
    assert len(after) == 12
    assert keys == ["web:a"]


def test_each_store_reads_the_others_file(probe: dict[str, object]) -> None:
    cross: Any = probe["cross"]
    faro: Any = probe["faro"]
    faro_reads_rasa, rasa_reads_faro, rasa_full = cross
    assert faro_reads_rasa == rasa_reads_faro == faro[-2]
    assert len(rasa_full) == 17 + 11


def test_a_turn_costs_less_than_with_rasas_store(probe: dict[str, object]) -> None:
    faro_ms, rasa_ms = float(probe["faro_ms"]), float(probe["rasa_ms"])  # type: ignore[arg-type]
    assert faro_ms < rasa_ms / 2, (faro_ms, rasa_ms)
