"""Unanswered questions grouped by meaning (SQLite and PostgreSQL, the app's real encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.console.groups import DISMISSED, MAPPED
from faq_index import Encoder
from tests.console.conftest import Console, make_console

CARDS_EN = [
    "why is my card declined",
    "my card payment was rejected",
    "card declined at the shop",
    "can't pay with my card",
]
BACK_EN = [
    "when will the app be back",
    "when will the app work again",
    "when is the app coming back",
]
CARDS_ES = ["¿por qué me rechazan la tarjeta?", "me rechazan la tarjeta al pagar"]
BACK_ES = ["¿cuándo vuelve la app?", "la app no funciona, ¿cuándo vuelve?"]


def ask(c: Console, texts: list[str], lang: str, times: int = 1) -> None:
    for text in texts:
        for _ in range(times):
            c.app_store.record_unanswered(text, lang, conversation_id="c1")


def groups_of(c: Console) -> list[set[str]]:
    c.grouper.catch_up()
    overview = c.grouper.groups.overview(limit=50, examples=10)
    return [set(g.examples) for g in overview.groups]


def test_similar_questions_form_one_group_per_meaning_and_language(console: Console) -> None:
    ask(console, CARDS_EN, "en")
    ask(console, BACK_EN, "en")
    ask(console, CARDS_ES, "es")
    ask(console, BACK_ES, "es")
    found = groups_of(console)
    assert set(CARDS_EN) in found and set(BACK_EN) in found
    assert set(CARDS_ES) in found and set(BACK_ES) in found
    assert len(found) == 4


def test_each_question_is_embedded_once_and_repeats_need_no_embedding(console: Console) -> None:
    seen: list[str] = []
    real = console.grouper._embed  # noqa: SLF001 - counting the encoder's work

    def counting(texts: list[str], lang: str) -> object:
        seen.extend(texts)
        return real(texts, lang)

    console.grouper._embed = counting  # type: ignore[method-assign]  # noqa: SLF001
    ask(console, CARDS_EN, "en", times=3)
    console.grouper.catch_up()
    assert sorted(seen) == sorted(CARDS_EN)  # three askings, one embedding per text
    ask(console, ["Why is my card  DECLINED"], "en")  # the same text, differently typed
    console.grouper.catch_up()
    assert len(seen) == len(CARDS_EN)
    (group,) = console.grouper.groups.overview().groups
    assert group.count == 13 and group.lang == "en"
    assert group.first_seen <= group.last_seen


def test_the_nearest_entry_is_found_for_each_group(console: Console) -> None:
    ask(console, CARDS_EN, "en")
    ask(console, ["I cannot sign in to the app", "my login is refused"], "en")
    console.grouper.catch_up()
    overview = console.grouper.groups.overview(examples=10)
    nearest = {e: g.nearest_faq_id for g in overview.groups for e in g.examples}
    assert nearest["why is my card declined"] == "card-payments-failing"
    assert nearest["I cannot sign in to the app"] == "login-problems"


def test_a_dismissed_group_stays_hidden_and_keeps_its_questions(console: Console) -> None:
    groups = console.grouper.groups
    ask(console, ["do you sell bikes", "can I buy a bicycle from you"], "en")
    console.grouper.catch_up()
    (group,) = groups.overview().groups
    questions = groups.questions(group.id)
    assert groups.close(group.id, state=DISMISSED, actor="admin:Ana", questions=questions)
    assert not groups.close(group.id, state=MAPPED, actor="admin:Ana", questions=questions)
    ask(console, ["do you sell bicycles"], "en")  # the same meaning again: still not ours
    console.grouper.catch_up()
    assert groups.overview().groups == []
    kept = groups.feedback(verdict="not_ours")
    assert {r["question"] for r in kept} == {"do you sell bikes", "can I buy a bicycle from you"}
    assert {r["actor"] for r in kept} == {"admin:Ana"}


def test_grouping_survives_a_restart(db_url: str, tmp_path: Path, model: Encoder) -> None:
    first = make_console(db_url, tmp_path, model)
    ask(first, CARDS_EN, "en")
    first.grouper.catch_up()
    before = first.grouper.groups.overview().groups
    first.app_store.dispose()
    second = make_console(db_url, tmp_path, model)
    ask(second, ["my card payment got rejected"], "en")
    second.grouper.catch_up()
    (after,) = second.grouper.groups.overview().groups
    assert after.id == before[0].id and after.count == len(CARDS_EN) + 1
    second.app_store.dispose()


def test_staff_verdicts_reach_the_answer_centre_once(console: Console) -> None:
    """A group dismissed as not ours becomes calibration evidence for the answer centre
    (issue 13's staff verdicts), handed over once, and again only when there are new ones."""
    groups, grouper = console.grouper.groups, console.grouper
    assert not grouper.teach()  # nothing decided yet
    assert grouper.faq_index_feedback().negatives == ()
    ask(console, ["do you sell bikes", "can I buy a bicycle from you"], "en")
    grouper.catch_up()
    (group,) = groups.overview().groups
    questions = groups.questions(group.id)
    assert groups.close(group.id, state=DISMISSED, actor="admin:Ana", questions=questions)
    assert grouper.teach()
    negatives = {text for text, _lang in grouper.faq_index_feedback().negatives}
    assert negatives == {"do you sell bikes", "can I buy a bicycle from you"}
    assert not grouper.teach()  # no new verdict: nothing to hand over


def test_a_question_the_faq_just_searched_is_grouped_without_encoding_it_again(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = console.faq.index.encoder
    encoded: list[str] = []
    real = encoder.encode

    def counting(texts: list[str]) -> object:
        encoded.extend(texts)
        return real(texts)

    monkeypatch.setattr(encoder, "encode", counting)
    asked = "is my parcel insured when the courier loses it"
    console.faq.decide(asked, "en")  # a customer's turn: searched, then not answered
    assert encoded == [asked]
    ask(console, [asked], "en")
    ask(console, ["a question nobody searched"], "en")
    console.grouper.catch_up()
    assert encoded == [asked, "a question nobody searched"]
    assert sum(g.count for g in console.grouper.groups.overview().groups) == 2
