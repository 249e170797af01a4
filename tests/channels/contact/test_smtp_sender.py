"""The SMTP sender keeps connections open, logs in once for many messages, and does not
reuse one that sat idle (servers hang up on those), on a real aiosmtpd server on loopback."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from bot.channels.email.sender import SmtpSender, SmtpServer
from tests.helpers.smtp_server import PASSWORD, USER
from tests.helpers.smtp_server import SmtpServer as LoopbackSmtp


def message(to: str, n: int) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "updates@northwind.example"
    m["To"] = to
    m["Subject"] = f"message {n}"
    m.set_content("hello")
    return m


async def test_connections_are_reused_but_not_after_sitting_idle() -> None:
    with LoopbackSmtp(idle_timeout_s=0.5).running() as smtp:
        server = SmtpServer(host="127.0.0.1", port=smtp.port, username=USER, password=PASSWORD)
        sender = SmtpSender(server, rate_per_s=100, connections=1, max_idle_s=0.3)
        for n in range(3):
            await sender.send(message("a@example.com", n))
        assert smtp.logins == 1  # three messages, one connection
        await asyncio.sleep(1.0)  # idle: the server hangs up (after 0.5 s)
        await sender.send(message("a@example.com", 3))
        await sender.aclose()
        subjects = [str(m["Subject"]) for m in smtp.to("a@example.com")]
        assert subjects == [f"message {n}" for n in range(4)]
        assert smtp.logins == 2
