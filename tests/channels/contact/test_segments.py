"""SMS segments: GSM-7 vs UCS-2 counted as carriers count them; fitting keeps the footer."""

from __future__ import annotations

import pytest

from bot.channels.sms.render import max_segments, plain, render_sms
from bot.channels.sms.segments import count, fit, is_gsm7
from bot.templates import TemplateStore


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("¿Dónde está mi tarjeta?", "UCS-2", 23, 1),  # ó and á are not GSM-7
        ("¿Qué pasa? Ñandú, pingüino: àèéìòù ÄÖÜ ß", "UCS-2", 40, 1),  # ú forces UCS-2
        ("Añadir ñ, ü, é, à: ¿sí?".replace("í", "i"), "GSM-7", 23, 1),  # all GSM-7
        ("ó" * 70, "UCS-2", 70, 1),
        ("ó" * 71, "UCS-2", 71, 2),
        ("ó" * 134, "UCS-2", 134, 2),
        ("ó" * 135, "UCS-2", 135, 3),
        ("🔔" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
        ("🔔" * 36, "UCS-2", 72, 2),
    ],
)
def test_counts(text: str, encoding: str, units: int, segments: int) -> None:
    got = count(text)
    assert (got.encoding, got.units, got.segments) == (encoding, units, segments)


def test_spanish_with_accents_is_ucs2_and_without_is_gsm7() -> None:
    assert not is_gsm7("Información")
    assert is_gsm7("Informacion")
    assert is_gsm7("El servicio está") is False


@pytest.mark.parametrize("budget", [1, 2, 3])
@pytest.mark.parametrize(
    "body", ["Card payments fail. " * 40, "Los pagos con tarjeta fallan. " * 40]
)
def test_fit_stays_within_the_budget_and_keeps_the_footer(body: str, budget: int) -> None:
    footer = "Reply STOP to stop updates"
    text = fit(body, footer, budget)
    assert count(text).segments <= budget
    assert text.endswith("\n" + footer)
    assert "…" in text
    assert text.startswith(body[:20])


def test_fit_leaves_short_texts_alone() -> None:
    assert fit("All fixed.", "Reply STOP", 1) == "All fixed.\nReply STOP"
    assert count("All fixed.\nReply STOP").encoding == "GSM-7"


def test_render_drops_pictographs_and_reads_the_budget_from_templates() -> None:
    assert plain("🔔 New incident: Cards\n✅  Resolved") == "New incident: Cards\nResolved"
    text = (
        "📣 Announcement\n" + "Branches close early today. " * 30 + "\nReply STOP to stop updates"
    )
    sms = render_sms(text, segments=2)
    assert count(sms).segments <= 2 and count(sms).encoding == "UCS-2"  # the ellipsis
    templates = TemplateStore({"sms.max_segments": {"en": "2", "es": "4"}})
    assert (max_segments(templates, "en"), max_segments(templates, "es")) == (2, 4)
    assert max_segments(TemplateStore({"sms.max_segments": {"en": "lots"}}), "en") == 3
    assert max_segments(TemplateStore({}), "en") == 3
