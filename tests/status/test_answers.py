"""Answers per phase in en and es: as of when, the latest update quoted, no invented ETA."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from bot.status.answers import AnswerWriter
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.model import StatusSnapshot
from bot.status.statuspage import loads
from bot.templates import TemplateStore
from tests.helpers.status_builders import (
    ALIASES,
    SAMPLE_FEED,
    STATUS_TEMPLATES,
    T0,
    component,
    incident,
    snapshot,
    summary,
    update,
)

NOW = T0 + timedelta(hours=1)  # 10:00 UTC
CARD = [("Card payments", "operational", "major_outage")]


def write(
    templates: TemplateStore,
    snap: StatusSnapshot | None,
    *,
    lang: str = "en",
    eta: bool = False,
    question: str = "is it down?",
    confirmed_ago: timedelta = timedelta(minutes=1),
    **options: Any,
) -> str:
    matcher = ComponentMatcher(load_aliases(ALIASES))
    components = matcher.match(question, snap) if snap else []
    writer = AnswerWriter(templates, **options)
    return writer.write(
        snap, components=components, lang=lang, eta=eta, confirmed_at=NOW - confirmed_ago, now=NOW
    ).text


def one_incident(status: str, body: str, **kw: Any) -> StatusSnapshot:
    updates = [update(status, body, T0 + timedelta(minutes=40), affected=CARD)]
    if status != "investigating":
        updates.append(update("investigating", "We are looking into it.", T0, affected=CARD))
    return snapshot(
        summary(
            components=[
                component(
                    "Card payments", "major_outage" if status != "resolved" else "operational"
                ),
                component("ATMs", position=2),
            ],
            incidents=[incident(*updates)],
            indicator="major" if status != "resolved" else "none",
        )
    )


PHASES = {
    "investigating": (
        "we are aware of a problem and are investigating it",
        "sabemos que hay un problema y lo estamos investigando",
    ),
    "identified": (
        "we have found the cause of a problem",
        "hemos encontrado la causa de un problema",
    ),
    "monitoring": (
        "a fix is in place and we are checking that it works",
        "ya hemos aplicado una solución",
    ),
    "resolved": (
        "this problem has been resolved (at 09:40 UTC)",
        "este problema está resuelto (desde las 09:40 UTC)",
    ),
}


@pytest.mark.parametrize("phase", sorted(PHASES))
@pytest.mark.parametrize("lang", ["en", "es"])
def test_each_phase_in_each_language(templates: TemplateStore, phase: str, lang: str) -> None:
    body = f"Update text for {phase}, as the page wrote it."
    text = write(templates, one_incident(phase, body), lang=lang)
    en, es = PHASES[phase]
    assert (en if lang == "en" else es) in text
    assert text.startswith("As of 09:59 UTC" if lang == "en" else "A las 09:59 UTC")
    assert "Card payments failing" in text  # the incident name as the page wrote it
    assert body in text  # quoted verbatim, in the page's language
    assert (
        "Latest update (09:40 UTC)" if lang == "en" else "Última actualización (09:40 UTC)"
    ) in text
    assert "https://stspg.io/inc1" in text


def test_open_incident_says_what_is_affected_and_since_when(templates: TemplateStore) -> None:
    text = write(templates, one_incident("identified", "Found it."))
    assert "Affected: Card payments." in text and "It started at 09:00 UTC." in text
    es = write(templates, one_incident("identified", "Found it."), lang="es")
    assert "Afecta a: Card payments." in es and "Empezó a las 09:00 UTC." in es


def test_meanwhile_advice_only_while_affected(templates: TemplateStore) -> None:
    open_ = write(templates, one_incident("identified", "Found it."))
    assert "Meanwhile, if a card payment is declined" in open_
    assert "Mientras tanto" in write(templates, one_incident("identified", "x"), lang="es")
    assert "Meanwhile" not in write(templates, one_incident("resolved", "Fixed."))


def test_no_meanwhile_when_no_template_says_so(templates: TemplateStore) -> None:
    snap = snapshot(
        summary(
            components=[component("ATMs", "major_outage")],
            incidents=[
                incident(
                    update(
                        "investigating", "x", T0, affected=[("ATMs", "operational", "major_outage")]
                    )
                )
            ],
        )
    )
    assert "Meanwhile" not in write(templates, snap)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_eta_asked_and_none_given_is_honest(templates: TemplateStore, lang: str) -> None:
    text = write(
        templates, one_incident("identified", "We are working on a fix."), lang=lang, eta=True
    )
    if lang == "en":
        assert "We don't have an estimate for the fix yet, and we won't guess one." in text
        assert "We post every update at https://stspg.io/inc1; the latest was at 09:40 UTC." in text
    else:
        assert "Todavía no tenemos una estimación" in text
        assert (
            "Publicamos cada actualización en https://stspg.io/inc1; la última fue a las 09:40 UTC."
            in text
        )
    assert "gives this estimate" not in text and "da esta estimación" not in text


def test_eta_asked_quotes_the_next_update_promise(templates: TemplateStore) -> None:
    body = "We are working on a fix. We will post the next update by 10:30 UTC."
    text = write(templates, one_incident("identified", body), eta=True)
    assert (
        "About the next update, the status page says: “We will post the next update by 10:30 UTC.”"
        in text
    )
    assert "estimate" in text and "gives this estimate" not in text


def test_eta_given_is_quoted_with_its_time(templates: TemplateStore) -> None:
    body = "The provider has a fix. We expect card payments to work again by 11:30 UTC."
    for eta_asked in (True, False):
        text = write(templates, one_incident("identified", body), eta=eta_asked)
        assert (
            "The update of 09:40 UTC gives this estimate: "
            "“We expect card payments to work again by 11:30 UTC.”" in text
        )
        assert "won't guess" not in text
    es = write(templates, one_incident("identified", body), lang="es", eta=True)
    assert (
        "La actualización de las 09:40 UTC da esta estimación: "
        "«We expect card payments to work again by 11:30 UTC.»" in es
    )


def test_an_older_estimate_is_quoted_with_its_own_time(templates: TemplateStore) -> None:
    snap = snapshot(
        summary(
            incidents=[
                incident(
                    update("identified", "Still working on it.", T0 + timedelta(minutes=50)),
                    update(
                        "identified", "Should be fixed within 2 hours.", T0 + timedelta(minutes=10)
                    ),
                )
            ]
        )
    )
    text = write(templates, snap, eta=True)
    assert "The update of 09:10 UTC gives this estimate: “Should be fixed within 2 hours.”" in text
    assert "Latest update (09:50 UTC): “Still working on it.”" in text


def test_resolved_incident_with_eta_question_needs_no_estimate(templates: TemplateStore) -> None:
    text = write(templates, one_incident("resolved", "Fixed."), eta=True)
    assert "has been resolved" in text and "estimate" not in text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "As of 09:59 UTC, all our services are working normally."),
        ("es", "A las 09:59 UTC, todos nuestros servicios funcionan con normalidad."),
    ],
)
def test_all_operational(templates: TemplateStore, lang: str, expected: str) -> None:
    snap = snapshot(summary(components=[component("ATMs")], indicator="none"))
    assert write(templates, snap, lang=lang) == expected


def test_old_resolved_incidents_are_history(templates: TemplateStore) -> None:
    old = incident(update("resolved", "Fixed.", T0 - timedelta(days=2)))
    snap = snapshot(summary(incidents=[old], indicator="none"))
    assert "all our services are working normally" in write(templates, snap)


def test_components_down_without_an_incident_are_not_hidden(templates: TemplateStore) -> None:
    snap = snapshot(
        summary(
            components=[component("ATMs", "partial_outage"), component("Card payments", position=2)]
        )
    )
    text = write(templates, snap)
    assert text == "As of 09:59 UTC, there is a partial outage affecting ATMs."


def maint(status: str) -> dict[str, Any]:
    return incident(
        update(status, f"Maintenance {status}.", T0 - timedelta(minutes=30)),
        iid="m1",
        name="Online banking upgrade",
        impact="maintenance",
        scheduled_for="2026-03-02T09:30:00Z",
        scheduled_until="2026-03-02T11:00:00Z",
        components=[component("Online banking")],
    )


@pytest.mark.parametrize(
    ("status", "en", "es"),
    [
        (
            "in_progress",
            "planned maintenance is under way until 11:00 UTC: Online banking upgrade.",
            "hay un mantenimiento programado en curso hasta las 11:00 UTC",
        ),
        (
            "completed",
            "planned maintenance has been completed: Online banking upgrade.",
            "el mantenimiento programado ha terminado",
        ),
    ],
)
def test_maintenance_phases(templates: TemplateStore, status: str, en: str, es: str) -> None:
    snap = snapshot(summary(maintenances=[maint(status)], components=[component("Online banking")]))
    text = write(templates, snap)
    assert text.startswith("As of 09:59 UTC, " + en)
    assert f"Maintenance {status}." in text
    assert es in write(templates, snap, lang="es")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_scheduled_maintenance_is_mentioned_after_all_clear(
    templates: TemplateStore, lang: str
) -> None:
    upcoming = maint("scheduled")
    upcoming["scheduled_for"] = "2026-03-04T01:00:00Z"
    upcoming["scheduled_until"] = "2026-03-04T03:00:00Z"
    snap = snapshot(summary(maintenances=[upcoming], indicator="none"))
    text = write(templates, snap, lang=lang)
    if lang == "en":
        assert (
            "Planned maintenance is scheduled from 01:00 UTC on 4 March "
            "to 03:00 UTC on 4 March: Online banking upgrade." in text
        )
    else:
        assert (
            "Hay un mantenimiento programado desde las 01:00 UTC del 4 de marzo "
            "hasta las 03:00 UTC del 4 de marzo" in text
        )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "We could not check our status page just now: "
            "this is what it said when we last confirmed it, 6 minutes ago.",
        ),
        ("es", "esto es lo que decía la última vez que lo confirmamos, hace 6 minutos."),
    ],
)
def test_stale_state_says_how_old(templates: TemplateStore, lang: str, expected: str) -> None:
    text = write(
        templates,
        one_incident("identified", "x"),
        lang=lang,
        confirmed_ago=timedelta(minutes=6),
        stale_after=timedelta(minutes=5),
    )
    assert expected in text
    assert text.startswith("As of 09:54 UTC" if lang == "en" else "A las 09:54 UTC")
    fresh = write(
        templates, one_incident("identified", "x"), lang=lang, stale_after=timedelta(minutes=5)
    )
    assert "6 minut" not in fresh


def test_no_state_at_all(templates: TemplateStore) -> None:
    assert "can't reach our status page" in write(templates, None)
    assert "no puedo consultar" in write(templates, None, lang="es")


def test_more_than_one_open_incident(templates: TemplateStore) -> None:
    a = incident(
        update("investigating", "A", T0 + timedelta(minutes=30)), iid="a", name="App login errors"
    )
    b = incident(update("identified", "B", T0), iid="b", name="Card payments failing")
    text = write(templates, snapshot(summary(incidents=[b, a])))
    assert text.index("App login errors") < text.index(
        "We are also working on: Card payments failing."
    )


SAMPLE = loads(SAMPLE_FEED.read_bytes())


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        (
            "is card payment working?",
            "en",
            "As of 09:59 UTC, there is a partial outage affecting Card payments.",
        ),
        (
            "¿funciona la tarjeta?",
            "es",
            "A las 09:59 UTC, hay una interrupción parcial que afecta a Card payments.",
        ),
        ("are the ATMs ok?", "en", "As of 09:59 UTC, there are no known problems with ATMs."),
        ("¿funcionan los cajeros?", "es", "A las 09:59 UTC, no hay problemas conocidos con ATMs."),
    ],
)
def test_answers_about_one_component(
    templates: TemplateStore, question: str, lang: str, expected: str
) -> None:
    text = write(templates, SAMPLE, question=question, lang=lang)
    assert text.startswith(expected)


def test_affected_component_gets_the_incident_details(templates: TemplateStore) -> None:
    text = write(templates, SAMPLE, question="why is my card declined?")
    assert (
        "We have found the cause and are working on a fix: Some card payments are being declined."
        in text
    )
    assert "“We have found the cause: a fault at our card processing provider" in text
    assert "Meanwhile, if a card payment is declined" in text


def test_unaffected_component_mentions_the_other_incident(templates: TemplateStore) -> None:
    text = write(templates, SAMPLE, question="is the app working?")
    assert text == (
        "As of 09:59 UTC, there are no known problems with Mobile app. "
        "Separately, we are working on: Some card payments are being declined."
    )


def test_alias_question_lists_each_component(templates: TemplateStore) -> None:
    text = write(templates, SAMPLE, question="are transfers working?")
    assert text.startswith(
        "As of 09:59 UTC: Payments API: working, but slower than usual. "
        "Transfers: working, but slower than usual."
    )
    es = write(templates, SAMPLE, question="¿funcionan las transferencias?", lang="es")
    assert es.startswith(
        "Situación a las 09:59 UTC: Payments API: funciona, pero más lento de lo habitual. "
        "Transfers: funciona, pero más lento de lo habitual."
    )


def test_component_with_recently_resolved_incident(templates: TemplateStore) -> None:
    text = write(
        templates,
        one_incident("resolved", "All card payments work again."),
        question="card payments?",
    )
    assert text.startswith("As of 09:59 UTC, there are no known problems with Card payments.")
    assert "The problem was resolved at 09:40 UTC: Card payments failing." in text


def test_sample_eta_question_invents_nothing(templates: TemplateStore) -> None:
    text = write(templates, SAMPLE, eta=True, question="when will cards work again?")
    assert "We don't have an estimate for the fix yet" in text
    assert "“We will post the next update by 10:45 UTC.”" in text


def test_long_updates_are_cut_at_a_sentence(templates: TemplateStore) -> None:
    body = "First part of the story. " * 40
    text = write(templates, one_incident("identified", body), quote_limit=120)
    assert "“" + "First part of the story. " * 4 + "…”" in text


def test_html_bodies_are_quoted_as_text(templates: TemplateStore) -> None:
    text = write(
        templates, one_incident("identified", "<p>We <strong>found</strong> it &amp; fixed it.</p>")
    )
    assert "“We found it & fixed it.”" in text


def test_every_template_has_english_and_spanish() -> None:
    doc = yaml.safe_load(STATUS_TEMPLATES.read_text(encoding="utf-8"))
    for key, langs in doc["templates"].items():
        assert set(langs) == {"en", "es"}, key
        assert key.startswith("status.")


def test_maintenance_without_an_end_time_invents_none(templates: TemplateStore) -> None:
    open_ended = maint("in_progress")
    open_ended["scheduled_until"] = None
    snap = snapshot(summary(maintenances=[open_ended]))
    text = write(templates, snap)
    assert text.startswith(
        "As of 09:59 UTC, planned maintenance is under way: Online banking upgrade."
    )
    assert "until" not in text


def test_component_question_mentions_its_scheduled_maintenance(templates: TemplateStore) -> None:
    text = write(templates, SAMPLE, question="is online banking working?")
    assert text.startswith("As of 09:59 UTC, there are no known problems with Online banking.")
    assert (
        "Planned maintenance is scheduled from 01:00 UTC on 29 November "
        "to 03:00 UTC on 29 November: Online banking upgrade." in text
    )
    es = write(templates, SAMPLE, question="¿funciona la banca online?", lang="es")
    assert "Hay un mantenimiento programado desde las 01:00 UTC del 29 de noviembre" in es
    assert "maintenance" not in write(templates, SAMPLE, question="are the ATMs ok?")


def test_spanish_templates_use_the_same_placeholders_as_english() -> None:
    import string

    doc = yaml.safe_load(STATUS_TEMPLATES.read_text(encoding="utf-8"))
    for key, langs in doc["templates"].items():
        fields = {
            lang: {name for _, name, _, _ in string.Formatter().parse(text) if name}
            for lang, text in langs.items()
        }
        assert fields["en"] == fields["es"], key
