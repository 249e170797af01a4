"""The app's probes for an orchestrator: /healthz (liveness) and /readyz (readiness) answer
from the process alone, while /health still reports Rasa (deploy/k8s uses the first two)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings
from bot.wiring import build_services
from faq_index import load_encoder
from tests.faq_store.builders import sqlite_url, write_seed

REPO = Path(__file__).resolve().parents[2]


def test_liveness_and_readiness_do_not_depend_on_rasa(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "FARO_PROJECT_DIR": str(REPO),
            "FARO_DATA_DIR": str(tmp_path / "data"),
            "FARO_DATABASE_URL": sqlite_url(tmp_path),
            "FARO_FAQ": str(write_seed(tmp_path)),
            "FARO_RASA_URL": "http://127.0.0.1:9",  # nothing listens there
            "FARO_RASA_TIMEOUT": "2",
        }
    )
    services = build_services(settings, encoder=load_encoder("hashing"))
    app = create_app(services)
    try:
        before = TestClient(app)  # no lifespan: the background work has not started
        assert before.get("/healthz").json() == {"app": "ok"}
        not_yet = before.get("/readyz")
        assert not_yet.status_code == 503
        assert not_yet.json() == {"app": "starting or stopping"}

        with TestClient(app) as client:  # lifespan ran: started
            live = client.get("/healthz")
            assert (live.status_code, live.json()) == (200, {"app": "ok"})
            ready = client.get("/readyz")
            assert (ready.status_code, ready.json()) == (200, {"app": "ready"})
            health = client.get("/health")  # the dependency report still says Rasa is down
            assert health.status_code == 503
            assert health.json()["rasa"] == "unreachable"
        after = TestClient(app).get("/readyz")  # lifespan ended: stopping
        assert after.status_code == 503
    finally:
        services.store.dispose()
