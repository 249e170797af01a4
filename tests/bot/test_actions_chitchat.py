"""actions.chitchat: each small-talk action renders its template in the user's language."""

from __future__ import annotations

import pytest

import actions
from bot.core.ports import ActionServices
from bot.templates import TemplateStore
from tests.bot.helpers import action_call, run_action, texts

CASES = [
    ("action_greet", "greet", "greet"),
    ("action_goodbye", "goodbye", "goodbye"),
    ("action_thanks", "thanks", "thanks"),
    ("action_bot_challenge", "bot_challenge", "bot_challenge"),
    ("action_request_human", "request_human", "request_human"),
]


@pytest.mark.parametrize(("action", "intent", "template"), CASES)
@pytest.mark.parametrize("lang", ["en", "es"])
async def test_renders_its_template(
    action_services: ActionServices,
    templates: TemplateStore,
    action: str,
    intent: str,
    template: str,
    lang: str,
) -> None:
    result = await run_action(
        action_services, action_call(action, text="hi", intent=intent, lang=lang)
    )
    assert texts(result) == [templates.render(template, lang)]
    assert result["responses"][0]["buttons"] == []
    assert result["events"] == []


async def test_spanish_and_english_differ(
    action_services: ActionServices, templates: TemplateStore
) -> None:
    en = await run_action(action_services, action_call("action_greet", lang="en"))
    es = await run_action(action_services, action_call("action_greet", lang="es"))
    assert texts(en) != texts(es)


async def test_language_comes_from_the_latest_user_event(action_services: ActionServices) -> None:
    call = action_call("action_goodbye", lang="en")
    events = call["tracker"]["events"]
    older_user = dict(events[3], metadata={"lang": "es", "channel": "web"})
    # An older Spanish turn, then the bot's answer, then the latest (English) turn.
    call["tracker"]["events"] = (
        events[:3]
        + [
            older_user,
            {"event": "bot", "timestamp": 1.0, "text": "Hola", "data": {}, "metadata": {}},
        ]
        + events[3:]
    )
    english = await run_action(action_services, call)
    assert texts(english) == texts(
        await run_action(action_services, action_call("action_goodbye", lang="en"))
    )


def test_every_action_is_registered_once_with_a_distinct_name(
    action_services: ActionServices,
) -> None:
    names = [a.name() for a in actions.build_actions(action_services)]
    assert len(names) == len(set(names))
    others = {
        "action_answer_faq",
        "action_incident_status",
        "action_subscribe",
        "action_unsubscribe",
        "action_cancel_handoff",
    }
    assert {c[0] for c in CASES} | others == set(names)


def test_every_action_is_declared_in_the_domain(action_services: ActionServices) -> None:
    import yaml

    from tests.bot.helpers import PROJECT_DIR

    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    declared = set(domain.get("actions") or [])
    assert {a.name() for a in actions.build_actions(action_services)} <= declared


def test_template_actions_need_templates() -> None:
    with pytest.raises(TypeError, match="action_greet needs templates"):
        actions.ActionGreet(templates=None)  # type: ignore[arg-type]
