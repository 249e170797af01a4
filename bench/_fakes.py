"""The loopback Telegram and Slack fakes in a process of their own, for bench/broadcast.py.

Prints one JSON line with both base URLs; on a line "dump" on stdin, prints the
successful message sends (arrival time, recipient) as one JSON line and exits.
Arrival times are time.monotonic(), which is the same clock in every process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.slack_fake import running_slack_api  # noqa: E402
from tests.helpers.telegram_fake import FakeBotApi  # noqa: E402


def main() -> None:
    """Serve until told to dump the logs."""
    token = sys.argv[1]
    with FakeBotApi(token=token).running() as telegram, running_slack_api() as slack:
        print(json.dumps({"telegram": telegram.url, "slack": slack.url}), flush=True)
        for line in sys.stdin:
            if line.strip() == "dump":
                break
        calls = {
            "telegram": [
                [c.at, str(c.params.get("chat_id"))]
                for c in telegram.calls_of("sendMessage", ok=True)
            ],
            "slack": [
                [c.at, str(c.body.get("channel"))]
                for c in slack.of("chat.postMessage")
                if c.status == 200
            ],
        }
        print(json.dumps(calls), flush=True)


if __name__ == "__main__":
    main()
