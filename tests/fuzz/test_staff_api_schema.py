"""schemathesis against the staff API's own OpenAPI schema (``/api/staff/openapi.json``),
served by the real routes over the ASGI app on SQLite with handoffs and customers' data in
it: every operation, generated valid and invalid requests, authenticated; no 5xx, and every
response conforms to the schema (status code, content type, body, invalid input refused).

Budget: 25 examples per operation and phase (~10 s for the module); more with
``FARO_SCHEMATHESIS_EXAMPLES=500``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode
from starlette.applications import Starlette

from bot.db import Database
from bot.handoff.api import staff_api_routes
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.http import EXCEPTION_HANDLERS
from bot.privacy import PersonalData
from bot.templates import TemplateStore
from tests.bot.test_privacy import ALICE, ALICE_MAIL, BOB, fill
from tests.helpers.handoff_fakes import RecordingChannel

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "staff-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("FARO_SCHEMATHESIS_EXAMPLES", "25"))

# Invalid input may also be refused with 413 (a reply longer than 4000 characters: the contract).
CONFIG = SchemathesisConfig.from_dict(
    {
        "auth": {"openapi": {"bearer": {"bearer": TOKEN}}},
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            }
        },
    }
)


@pytest.fixture(scope="module")
def staff_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("staff-api")
    engine = Database.open(f"sqlite:///{folder / 'faro.db'}").engine
    fill(engine, ALICE, ALICE_MAIL)
    fill(engine, BOB, "bob@example.com")
    store = HandoffStore(engine)
    at = datetime.now(UTC)
    for n in range(3):  # waiting handoffs with low ids, so generated ids sometimes hit one
        store.open(f"web:fuzz-{n}", "web", "en", transcript=[("user", "help", at)])
    service = HandoffService(store, TemplateStore.from_paths([ROOT / "data" / "templates"]))
    channel = RecordingChannel()
    service.use_channels({"web": channel, "telegram": channel, "slack": channel})
    app = Starlette(
        routes=staff_api_routes(service=service, token=TOKEN, privacy=PersonalData(engine)),
        exception_handlers=EXCEPTION_HANDLERS,
    )
    yield schemathesis.openapi.from_asgi("/api/staff/openapi.json", app, config=CONFIG)
    engine.dispose()


OPERATIONS = [
    ("GET", "/api/staff/handoffs"),
    ("GET", "/api/staff/handoffs/{handoff_id}"),
    ("POST", "/api/staff/handoffs/{handoff_id}/claim"),
    ("POST", "/api/staff/handoffs/{handoff_id}/reply"),
    ("POST", "/api/staff/handoffs/{handoff_id}/release"),
    ("POST", "/api/staff/handoffs/{handoff_id}/close"),
    ("GET", "/api/staff/figures"),
    ("GET", "/api/staff/privacy/export"),
    ("POST", "/api/staff/privacy/erase"),
]


def test_every_operation_of_the_schema_is_fuzzed(staff_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in staff_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_staff_api_keeps_its_schema_and_never_answers_5xx(
    staff_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = staff_schema[path][method]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        statuses.append(case.call_and_validate().status_code)

    run()
    assert statuses and max(statuses) < 500
    if mode is GenerationMode.POSITIVE:  # the token is sent: requests get past the auth
        assert any(s != 401 for s in statuses), statuses
