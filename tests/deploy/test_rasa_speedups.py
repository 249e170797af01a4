"""The speed-up scripts/setup installs into the Rasa environment: faster, same verdicts."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

PROBE = textwrap.dedent(
    """
    import time, jsonschema
    from rasa.core.actions.action import RemoteAction
    action = RemoteAction("action_x", None)
    good = {"events": [], "responses": [{"text": "hi", "buttons": [], "elements": [],
            "custom": {}, "template": None, "response": None, "image": None,
            "attachment": None}]}
    print(jsonschema.validate.__module__)
    started = time.perf_counter()
    for _ in range(200):
        action._validate_action_result(good)
    print((time.perf_counter() - started) / 200 * 1000)
    for bad in ({"events": "nope"}, {"events": [], "responses": "x"}):
        try:
            action._validate_action_result(bad)
            print("accepted")
        except jsonschema.ValidationError:
            print("refused")
    """
)


def test_rasa_validates_action_replies_with_the_cached_schema_check() -> None:
    out = subprocess.run(
        [str(RASA_PYTHON), "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    module, per_call_ms, *verdicts = out
    assert module == "faro_rasa_speedups"
    assert verdicts == ["refused", "refused"], "invalid replies are still refused"
    # Checking the schema against the meta-schema costs several ms per call;
    # a cached validator checks a small reply in well under one.
    assert float(per_call_ms) < 2.0
