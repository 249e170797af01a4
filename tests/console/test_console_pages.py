"""The console's pages over HTTP: groups mapped and dismissed, templates edited, the dashboard."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from bot.broadcast.subscriptions import recipient_for
from bot.broadcast.tables import outbox
from tests.console.conftest import Console
from tests.console.test_groups import CARDS_EN, ask

KEY = "status.incident.identified"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def group_ids(page: str) -> list[int]:
    return [int(g) for g in re.findall(r'id="group-(\d+)"', page)]


def test_the_dashboard_is_the_landing_page_and_old_entry_links_still_work(
    console: Console,
) -> None:
    page = console.client.get("/admin")
    assert page.status_code == 200 and 'id="dashboard"' in page.text
    assert "/admin/static/console.js" in page.text
    old = console.client.get("/admin?q=card", follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"] == "/admin/entries?q=card"
    entries = console.client.get("/admin/entries?q=card")
    assert "card-payments-failing" in entries.text


def test_the_dashboard_data_says_what_customers_are_told(console: Console) -> None:
    ask(console, CARDS_EN, "en", times=2)
    data = console.client.get("/admin/dashboard.json").json()
    told = {t["lang"]: t for t in data["told"]}
    assert set(told) == {"en", "es"}
    assert told["en"]["text"] == console.status.answer("", "en").text
    assert told["en"]["as_of"] is not None
    assert data["incident"] is not None and data["incident"]["name"]
    assert data["groups"][0]["count"] == 8 and data["open_groups"] == 1
    series = data["rates"]["series"]
    assert sum(s["total"] for s in series) == 8
    assert series[0]["topic"] == "card-payments-failing"


def test_the_nearest_entry_is_preselected_not_the_first(console: Console) -> None:
    ask(console, ["I cannot sign in to the app", "my login is refused"], "en")
    page = console.client.get("/admin/unanswered").text
    assert '<option value="login-problems" selected>' in page
    assert page.count(" selected>") == 1


def test_mapping_a_group_makes_the_bot_answer_its_questions(console: Console) -> None:
    questions = ["my transfer did not arrive", "the transfer I sent is missing"]
    assert all(console.faq.decide(q, "en").kind == "decline" for q in questions)
    ask(console, questions, "en", times=3)
    (gid,) = group_ids(console.client.get("/admin/unanswered").text)
    before = len(console.faq_store.audit(limit=1000))
    response = console.post(f"/admin/unanswered/groups/{gid}/map", {"entry_id": "when-fixed"})
    assert response.status_code == 303
    entry = console.faq_store.get("when-fixed")
    assert entry is not None
    assert set(questions) <= set(entry.entry.paraphrases["en"])
    audit = console.faq_store.audit(limit=1000)
    assert len(audit) == before + 1 and audit[0].actor == "admin:Ana"
    for q in questions:
        decision = console.faq.decide(q, "en")
        assert decision.kind == "answer"
        assert decision.best is not None and decision.best.entry.id == "when-fixed"
    assert group_ids(console.client.get("/admin/unanswered").text) == []
    mapped = console.grouper.groups.feedback(verdict="mapped")
    assert {r["question"] for r in mapped} == set(questions)
    assert {r["faq_id"] for r in mapped} == {"when-fixed"}


def test_dismissing_hides_the_group_and_a_new_entry_form_is_prefilled(console: Console) -> None:
    ask(console, ["do you sell bikes", "can I buy a bicycle from you"], "en")
    page = console.client.get("/admin/unanswered").text
    (gid,) = group_ids(page)
    link = re.search(r'href="(/admin/entries/new\?[^"]+)"', page)
    assert link
    form = console.client.get(html.unescape(link.group(1))).text
    assert f'name="group" value="{gid}"' in form and "bicycle" in form
    assert console.post(f"/admin/unanswered/groups/{gid}/dismiss", {}).status_code == 303
    assert group_ids(console.client.get("/admin/unanswered").text) == []
    again = console.post(f"/admin/unanswered/groups/{gid}/dismiss", {})
    assert again.status_code == 409


def test_an_entry_made_from_a_group_closes_it(console: Console) -> None:
    ask(console, ["do you sell bikes"], "en")
    (gid,) = group_ids(console.client.get("/admin/unanswered").text)
    made = console.post(
        "/admin/entries/new",
        {
            "id": "bikes",
            "question_en": "Do you sell bikes?",
            "answer_en": "No, we are a bank.",
            "group": str(gid),
        },
    )
    assert made.status_code == 303
    assert group_ids(console.client.get("/admin/unanswered").text) == []
    assert console.grouper.groups.feedback(verdict="mapped")[0]["faq_id"] == "bikes"


def test_a_saved_template_is_the_next_status_answer(console: Console) -> None:
    before = console.status.answer("", "en").text
    assert before.startswith("As of")
    page = console.client.get(f"/admin/templates/{KEY}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version and "telegram" in page.text and "slack" in page.text
    text = "UPDATE {as_of}: we found the cause of {name}; a fix is on its way."
    saved = console.post(
        f"/admin/templates/{KEY}",
        {
            "text_en": text,
            "text_es": "A las {as_of}: {name}.",
            "version": version.group(1),
            "action": "save",
        },
    )
    assert saved.status_code == 303
    after = console.status.answer("", "en").text
    assert after.startswith("UPDATE ") and "a fix is on its way." in after
    assert console.status.answer("", "es").text.startswith("A las ")


def test_a_broken_placeholder_is_refused_with_its_name_and_nothing_changes(
    console: Console,
) -> None:
    revision = console.templates.db.revision()
    before = console.status.answer("", "en").text
    for text, named in (("As of {as_of}: {incident}", "{incident}"), ("As of {as_of", "braces")):
        refused = console.post(
            f"/admin/templates/{KEY}", {"text_en": text, "text_es": "x {name}", "action": "save"}
        )
        assert refused.status_code == 400 and named in html.unescape(refused.text)
    assert console.templates.db.revision() == revision
    assert console.status.answer("", "en").text == before


def test_preview_does_not_save_and_rollback_restores(console: Console) -> None:
    revision = console.templates.db.revision()
    preview = console.post(
        f"/admin/templates/{KEY}", {"text_en": "Draft {name}", "action": "preview"}
    )
    assert preview.status_code == 200 and "Draft Card payments delayed" in preview.text
    assert console.templates.db.revision() == revision
    seeded = console.templates.db.history(KEY)[0].id
    console.post(f"/admin/templates/{KEY}", {"text_en": "Edited {name}", "action": "save"})
    assert console.status.answer("", "en").text.startswith("Edited ")
    back = console.post(f"/admin/templates/{KEY}/rollback", {"version_id": str(seeded)})
    assert back.status_code == 303
    assert console.status.answer("", "en").text.startswith("As of")


def test_every_console_form_needs_its_csrf_token(console: Console) -> None:
    ask(console, ["do you sell bikes"], "en")
    (gid,) = group_ids(console.client.get("/admin/unanswered").text)
    revision = console.templates.db.revision()
    for path, data in (
        (f"/admin/unanswered/groups/{gid}/map", {"entry_id": "when-fixed"}),
        (f"/admin/unanswered/groups/{gid}/dismiss", {}),
        (f"/admin/templates/{KEY}", {"text_en": "Hacked {name}", "action": "save"}),
        (f"/admin/templates/{KEY}/rollback", {"version_id": "1"}),
    ):
        assert console.post(path, data, csrf="forged").status_code == 403
    assert group_ids(console.client.get("/admin/unanswered").text) == [gid]
    assert console.templates.db.revision() == revision


def test_xss_in_questions_entries_and_templates_is_inert(console: Console) -> None:
    made = console.post(
        "/admin/entries/new",
        {"id": "xss-entry", "question_en": "Why " + XSS, "answer_en": "Because " + XSS},
    )
    assert made.status_code == 303
    ask(console, [XSS], "en")
    for path in ("/admin", "/admin/unanswered"):
        page = console.client.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
    data = console.client.get("/admin/dashboard.json")
    assert data.headers["content-type"].startswith("application/json")
    saved = console.post(
        f"/admin/templates/{KEY}", {"text_en": "As of {as_of} " + XSS, "action": "save"}
    )
    assert saved.status_code == 303
    for path in ("/admin/templates", f"/admin/templates/{KEY}", "/admin"):
        page = console.client.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page


def test_subscribers_and_the_last_broadcast_on_the_dashboard_with_an_edited_template(
    console: Console,
) -> None:
    subscriptions = console.broadcaster.subscriptions
    for conversation, lang in (("telegram:101", "en"), ("telegram:102", "es"), ("web:s1", "en")):
        recipient = recipient_for(conversation, lang)
        assert recipient is not None
        subscriptions.subscribe(recipient)
    data = console.client.get("/admin/dashboard.json").json()
    assert data["subscribers"] == {"telegram": 2, "web": 1} and data["broadcast"] is None
    saved = console.post(
        "/admin/templates/broadcast.headline.announcement",
        {"text_en": "📣 NOTICE FROM THE BANK", "action": "save"},
    )
    assert saved.status_code == 303
    console.broadcaster.announce({"en": "Cards work again."}, created_by="admin:Ana", key="a1")
    data = console.client.get("/admin/dashboard.json").json()
    assert data["broadcast"]["recipients"] == 3 and data["broadcast"]["waiting"] == 3
    assert data["broadcast"]["sent"] == 0 and data["broadcast"]["done"] is False
    with console.app_store.engine.connect() as conn:
        texts = conn.execute(sa.select(outbox.c.text, outbox.c.lang)).all()
    assert any(lang == "en" and "NOTICE FROM THE BANK" in text for text, lang in texts)
    assert all("NOTICE" not in text for text, lang in texts if lang == "es")


def test_the_console_pages_speak_spanish(console: Console) -> None:
    ask(console, ["¿cuándo vuelve la app?"], "es")
    assert "Qué se les dice ahora a los clientes" in console.client.get("/admin?ui=es").text
    page = console.client.get("/admin/unanswered").text  # the cookie keeps Spanish
    assert "Asignar el grupo" in page and "No nos corresponde" in page
    assert "Marcadores que puede usar" in console.client.get(f"/admin/templates/{KEY}").text
