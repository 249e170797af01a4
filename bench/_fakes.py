"""The loopback Telegram, Slack and Twilio fakes and an SMTP server in a process of their own,
for bench/broadcast.py.

Prints one JSON line with their base URLs (and the SMTP port); on a line "dump" on stdin, prints the
successful message sends (arrival time, recipient) as one JSON line and exits.
Arrival times are time.monotonic(), which is the same clock in every process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.slack_fake import running_slack_api  # noqa: E402
from tests.helpers.smtp_server import SmtpServer  # noqa: E402
from tests.helpers.telegram_fake import FakeBotApi  # noqa: E402
from tests.helpers.twilio_fake import FakeTwilio  # noqa: E402


def main() -> None:
    """Serve until told to dump the logs."""
    token = sys.argv[1]
    sms_limit = float(sys.argv[2]) if len(sys.argv) > 2 else None  # Twilio's limit, per second
    with (
        FakeBotApi(token=token).running() as telegram,
        running_slack_api() as slack,
        SmtpServer(auth=False).running() as smtp,
        FakeTwilio(max_per_s=sms_limit).running() as twilio,
    ):
        urls = {"telegram": telegram.url, "slack": slack.url, "smtp_port": smtp.port}
        print(json.dumps({**urls, "twilio": twilio.url}), flush=True)
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
            "email": [[r.at, r.rcpt_tos[0]] for r in smtp.received],
            "sms": [[c.at, c.to] for c in twilio.accepted()],
            "sms_429": len([c for c in twilio.calls if c.status == 429]),
        }
        print(json.dumps(calls), flush=True)


if __name__ == "__main__":
    main()
