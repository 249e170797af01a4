"""Admin: unanswered questions, grouped, and turned into FAQ entries in one step."""

from __future__ import annotations

import html
import re

from tests.admin.conftest import Admin


def _ask(admin: Admin, *questions: tuple[str, str]) -> None:
    for n, (text, lang) in enumerate(questions):
        admin.app_store.record_unanswered(text, lang, conversation_id=f"web:{n}")


def test_grouped_with_counts_biggest_first(signed_in: Admin) -> None:
    _ask(
        signed_in,
        ("Can I open a mortgage?", "en"),
        ("can i open a   MORTGAGE?", "en"),
        ("¿Tenéis cripto?", "es"),
    )
    page = signed_in.client.get("/admin/unanswered").text
    rows = re.findall(
        r'<span class="count">(\d+)×</span> ([^<]+)</h2>\s*<p class="muted">Language: (\w+)', page
    )
    assert [(html.unescape(t), lang, int(c)) for c, t, lang in rows] == [
        ("Can I open a mortgage?", "en", 2),
        ("¿Tenéis cripto?", "es", 1),
    ]


def test_empty(signed_in: Admin) -> None:
    assert "No unanswered questions." in signed_in.client.get("/admin/unanswered").text


def test_new_entry_from_an_unanswered_question(signed_in: Admin) -> None:
    _ask(signed_in, ("¿Puedo pedir una hipoteca?", "es"))
    page = signed_in.client.get("/admin/unanswered").text
    link = html.unescape(re.search(r'href="(/admin/entries/new\?[^"]+)"', page).group(1))  # type: ignore[union-attr]
    form = signed_in.client.get(link).text
    assert 'name="question_es" value="¿Puedo pedir una hipoteca?"' in form
    response = signed_in.post(
        "/admin/entries/new",
        {
            "id": "mortgage",
            "question_es": "¿Puedo pedir una hipoteca?",
            "answer_es": "Las hipotecas están en pausa.",
        },
    )
    assert response.status_code == 303
    decision = signed_in.faq.decide("¿Puedo pedir una hipoteca?", "es")
    assert decision.kind == "answer" and decision.best is not None
    assert decision.best.entry.id == "mortgage"


def test_unanswered_question_becomes_a_paraphrase_in_one_step(signed_in: Admin) -> None:
    question = "my plastic got refused at the till"
    _ask(signed_in, (question, "en"))
    page = signed_in.client.get("/admin/unanswered").text
    assert re.search('<option value="card-payments-failing"( selected)?>', page)
    response = signed_in.post(
        "/admin/unanswered/paraphrase",
        {"text": question, "lang": "en", "entry_id": "card-payments-failing"},
    )
    assert response.status_code == 303
    stored = signed_in.faq_store.get("card-payments-failing")
    assert stored is not None and question in stored.entry.paraphrases["en"]
    assert stored.version == 2
    decision = signed_in.faq.decide(question, "en")
    assert decision.kind == "answer" and decision.best is not None
    assert decision.best.entry.id == "card-payments-failing"
    record = signed_in.faq_store.audit(limit=1)[0]
    assert record.action == "edit" and record.before is not None and record.after is not None
    assert question not in record.before["paraphrases"]["en"]
    assert question in record.after["paraphrases"]["en"]


def test_paraphrase_for_an_unknown_entry_changes_nothing(signed_in: Admin) -> None:
    before = signed_in.state()
    response = signed_in.post(
        "/admin/unanswered/paraphrase", {"text": "x", "lang": "en", "entry_id": "nope"}
    )
    assert response.status_code == 404
    assert signed_in.state() == before
