"""``faro announce`` (the CLI, on the app's database) reaches confirmed email and SMS
subscribers through the running app, like the chat channels: a real SMTP server gets the
email, the Twilio fake the SMS, each once, in the subscriber's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from faq_index import Encoder
from tests.channels.contact.conftest import env_for, running_world
from tests.helpers.smtp_server import text_of


def test_faro_announce_reaches_email_and_sms(
    tmp_path: Path, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_world(tmp_path, encoder, FARO_SUBSCRIBE_RATE_PER_IP="200") as world:
        world.subscribe(email="eva@example.com", lang="es")
        world.confirm_email("eva@example.com")
        world.subscribe(phone="+447400123456", lang="en")
        code = world.sms_code("+447400123456")
        confirmed = world.client.post(
            "/api/subscribe/confirm", json={"phone": "+447400123456", "code": code}
        )
        assert confirmed.status_code == 200
        for name, value in env_for(tmp_path, world.smtp, world.twilio).items():
            monkeypatch.setenv(name, value)

        result = CliRunner().invoke(
            cli,
            [
                "announce",
                "--en",
                "Branches close at 6 pm.",
                "--es",
                "Cerramos a las 18 h.",
                "--yes",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "2 recipient(s)" in result.stdout
        # the app's delivery worker finds the CLI's rows at its next poll
        world.wait(
            lambda: (
                any("Cerramos a las 18 h." in text_of(m) for m in world.smtp.to("eva@example.com"))
                and any("Branches close" in c.body for c in world.twilio.accepted("+447400123456"))
            ),
            "the announcement by email and SMS",
            timeout_s=30,
        )
        mails = [m for m in world.smtp.to("eva@example.com") if "Cerramos" in text_of(m)]
        texts = [c for c in world.twilio.accepted("+447400123456") if "Branches" in c.body]
        assert len(mails) == 1 and len(texts) == 1
        assert mails[0]["Subject"] == "Northwind Bank: Aviso"
        assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert texts[0].body.endswith("Reply STOP to stop updates")


def test_faro_announce_preview_shows_the_email_and_the_sms(
    tmp_path: Path, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_world(tmp_path, encoder, FARO_SUBSCRIBE_RATE_PER_IP="200") as world:
        world.subscribe(email="eva@example.com", lang="es")
        world.confirm_email("eva@example.com")
        for name, value in env_for(tmp_path, world.smtp, world.twilio).items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(
            cli,
            ["announce", "--en", "Branches close.", "--es", "Las oficinas cierran.", "--preview"],
        )
        assert result.exit_code == 0, result.output
        out = result.stdout
        email_es = out.split("== email / es: 1 recipient(s)\n", 1)[1].split("\n== ", 1)[0]
        assert email_es.startswith("Subject: Northwind Bank: Aviso\n")
        assert "Las oficinas cierran." in email_es and "Darte de baja de estos avisos" in email_es
        sms_es = out.split("== sms / es: 0 recipient(s)\n", 1)[1].split("\n== ", 1)[0]
        assert "Responde BAJA" in sms_es and "segment(s), UCS-2," in sms_es
        sms_en = out.split("== sms / en: 0 recipient(s)\n", 1)[1].split("\n== ", 1)[0]
        assert "(1 segment(s), GSM-7," in sms_en
        assert world.services.broadcaster.outbox.progress(limit=5) == []  # nothing sent
