"""Admin entry flows over HTTP: list, search, add, edit, retire, refusals, audit, preview."""

from __future__ import annotations

import re

import pytest

from tests.admin.conftest import Admin

NEW_ENTRY = {
    "id": "mortgage-applications",
    "tags": "loans, mortgages",
    "question_en": "Can I apply for a mortgage now?",
    "question_es": "¿Puedo pedir una hipoteca ahora?",
    "paraphrases_en": "mortgage application\napply for a home loan\n",
    "paraphrases_es": "solicitar hipoteca",
    "answer_en": "Mortgage applications are paused during the outage.",
    "answer_es": "Las solicitudes de hipoteca están en pausa durante la caída.",
}


def _answer(admin: Admin, text: str, lang: str = "en") -> str | None:
    decision = admin.faq.decide(text, lang)
    if decision.kind != "answer" or decision.best is None:
        return None
    return decision.best.entry.answer_for(lang)[1]


def _edit_form(admin: Admin, faq_id: str) -> dict[str, str]:
    page = admin.client.get(f"/admin/entries/{faq_id}").text
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    fields.update(re.findall(r'<textarea name="(\w+)"[^>]*>([^<]*)</textarea>', page))
    fields.pop("csrf", None)
    return {k: v.replace("&#39;", "'") for k, v in fields.items()}


def test_list_and_search(signed_in: Admin) -> None:
    page = signed_in.client.get("/admin/entries")
    assert all(i in page.text for i in ("card-payments-failing", "when-fixed", "login-problems"))
    found = signed_in.client.get("/admin/entries", params={"q": "sign in"}).text
    assert "login-problems" in found and "when-fixed" not in found
    assert "No entries match" in signed_in.client.get("/admin/entries", params={"q": "zzz"}).text


def test_add_is_live_at_once_and_audited(signed_in: Admin) -> None:
    assert _answer(signed_in, "Can I apply for a mortgage now?") is None
    response = signed_in.post("/admin/entries/new", NEW_ENTRY)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/entries/mortgage-applications?saved=1"
    assert _answer(signed_in, "Can I apply for a mortgage now?") == NEW_ENTRY["answer_en"]
    assert _answer(signed_in, "¿Puedo pedir una hipoteca ahora?", "es") == NEW_ENTRY["answer_es"]
    stored = signed_in.faq_store.get("mortgage-applications")
    assert stored is not None
    assert stored.entry.tags == ("loans", "mortgages")
    assert stored.entry.paraphrases == {
        "en": ("mortgage application", "apply for a home loan"),
        "es": ("solicitar hipoteca",),
    }
    record = signed_in.faq_store.audit(limit=1)[0]
    assert (record.actor, record.action, record.before) == ("admin:Ana", "add", None)
    assert record.after is not None and record.after["answer"]["es"] == NEW_ENTRY["answer_es"]
    page = signed_in.client.get(response.headers["location"]).text
    assert "Saved. The bot serves it within seconds." in page


def test_edit_both_languages_is_live_and_audited_with_before_and_after(signed_in: Admin) -> None:
    form = _edit_form(signed_in, "when-fixed")
    assert form["version"] == "1" and form["answer_en"].startswith("We are working")
    form.update(
        answer_en="Fixed: everything works again since 14:05.",
        answer_es="Arreglado: todo funciona desde las 14:05.",
        paraphrases_en=form["paraphrases_en"] + "\nis it fixed yet",
        tags="eta, status",
    )
    assert signed_in.post("/admin/entries/when-fixed", form).status_code == 303
    assert _answer(signed_in, "When will the service be back?") == form["answer_en"]
    assert _answer(signed_in, "¿Cuándo vuelve el servicio?", "es") == form["answer_es"]
    record = signed_in.faq_store.audit(limit=1, entry_id="when-fixed")[0]
    assert record.action == "edit" and record.actor == "admin:Ana"
    assert record.before is not None and record.before["answer"]["en"].startswith("We are")
    assert record.after is not None and record.after["tags"] == ["eta", "status"]
    assert "is it fixed yet" in record.after["paraphrases"]["en"]


def test_retire_and_restore(signed_in: Admin) -> None:
    assert _answer(signed_in, "I cannot log in to the app") is not None
    assert signed_in.post("/admin/entries/login-problems/retire", {"version": "1"}).is_redirect
    assert _answer(signed_in, "I cannot log in to the app") is None
    assert "login-problems" not in signed_in.client.get("/admin").text
    listed = signed_in.client.get("/admin/entries", params={"retired": "1"}).text
    assert "login-problems</a> (retired)" in listed
    assert signed_in.post("/admin/entries/login-problems/restore", {}).is_redirect
    assert _answer(signed_in, "I cannot log in to the app") is not None
    actions = [r.action for r in signed_in.faq_store.audit(limit=2, entry_id="login-problems")]
    assert actions == ["restore", "retire"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answer_en": "  ", "answer_es": ""}, "the answer is empty"),
        ({"id": "when-fixed"}, "the id &#39;when-fixed&#39; is already used by an entry"),
        ({"id": "Not a slug!"}, "id must be a slug"),
        ({"id": ""}, "missing &#39;id&#39;"),
        ({"question_en": "", "question_es": ""}, "the question is empty"),
    ],
)
def test_bad_new_entry_is_refused_and_nothing_changes(
    signed_in: Admin, changes: dict[str, str], message: str
) -> None:
    before = signed_in.state()
    index = signed_in.faq.index
    response = signed_in.post("/admin/entries/new", {**NEW_ENTRY, **changes})
    assert response.status_code == 400
    assert "Not saved:" in response.text and message in response.text
    assert "solicitar hipoteca" in response.text  # the editor's work is kept in the form
    assert signed_in.state() == before
    assert signed_in.faq.index is index


def test_bad_edit_is_refused_and_the_live_answer_stays(signed_in: Admin) -> None:
    form = _edit_form(signed_in, "when-fixed")
    live = _answer(signed_in, "When will the service be back?")
    before = signed_in.state()
    response = signed_in.post(
        "/admin/entries/when-fixed", {**form, "answer_en": "", "answer_es": ""}
    )
    assert response.status_code == 400 and "the answer is empty" in response.text
    assert signed_in.state() == before
    assert _answer(signed_in, "When will the service be back?") == live


def test_stale_edit_is_refused(signed_in: Admin) -> None:
    form = _edit_form(signed_in, "when-fixed")
    signed_in.post("/admin/entries/when-fixed", {**form, "tags": "first"})
    before = signed_in.state()
    response = signed_in.post("/admin/entries/when-fixed", {**form, "tags": "second"})
    assert response.status_code == 400 and "changed by someone else" in response.text
    assert signed_in.state() == before


def test_unknown_entry_is_404(signed_in: Admin) -> None:
    assert signed_in.client.get("/admin/entries/nope").status_code == 404
    assert signed_in.post("/admin/entries/nope/retire", {}).status_code == 404


def test_everything_staff_typed_is_escaped(signed_in: Admin) -> None:
    evil = {**NEW_ENTRY, "answer_en": "<script>alert(1)</script>", "tags": "<b>x</b>"}
    signed_in.post("/admin/entries/new", evil)
    for path in ("/admin", "/admin/entries/mortgage-applications", "/admin/audit"):
        page = signed_in.client.get(path).text
        assert "<script>alert" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in signed_in.client.get("/admin/audit").text


def test_preview_shows_decision_and_scored_matches(signed_in: Admin) -> None:
    page = signed_in.client.get("/admin/preview", params={"q": "when will it be fixed"}).text
    assert re.search(r'class="decision">answer</strong>\s*\(when-fixed\)', page)
    scores = [float(s) for s in re.findall(r"<td>(\d\.\d{3})</td>", page)]
    assert scores and scores == sorted(scores, reverse=True) and scores[0] > 0.5
    page = signed_in.client.get("/admin/preview", params={"q": "capital of France?"}).text
    assert "decline (offer a person)" in page
    spanish = signed_in.client.get(
        "/admin/preview", params={"q": "cuándo vuelve el servicio", "lang": "es", "ui": "es"}
    ).text
    assert "responde" in spanish and "Mejores coincidencias" in spanish


def test_audit_view_lists_changes_newest_first(signed_in: Admin) -> None:
    signed_in.post("/admin/entries/new", NEW_ENTRY)
    signed_in.post("/admin/entries/login-problems/retire", {})
    page = signed_in.client.get("/admin/audit").text
    rows = re.findall(r"<td>admin:Ana</td><td>(\w+)</td>", page)
    assert rows[:2] == ["retire", "add"]
    assert "Mortgage applications are paused" in page
    one = signed_in.client.get("/admin/audit", params={"entry": "login-problems"}).text
    assert "mortgage-applications" not in one and "retire" in one


def test_spanish_ui(signed_in: Admin) -> None:
    page = signed_in.client.get("/admin/entries", params={"ui": "es"})
    assert "Entradas" in page.text and "Nueva entrada" in page.text
    assert "Sin respuesta" in signed_in.client.get("/admin/audit").text  # remembered
    english = signed_in.client.get("/admin/entries", params={"ui": "en"}).text
    assert "New entry" in english
