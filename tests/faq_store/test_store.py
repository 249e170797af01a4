"""bot.faqdb.store on SQLite and PostgreSQL: entries, audit, change marker, import plans."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from bot.faqdb.codec import entry_to_dict, validate_edit
from bot.faqdb.errors import DuplicateEntry, EditConflict, UnknownEntry
from bot.faqdb.store import FaqStore
from faq_index import parse_faq_text
from tests.faq_store.builders import SEED_YAML, mortgage

SEED = parse_faq_text(SEED_YAML, "seed.yml")


@pytest.fixture
def seeded(faq_store: FaqStore) -> FaqStore:
    assert faq_store.seed(SEED)
    return faq_store


def test_new_store_is_empty_at_revision_zero(faq_store: FaqStore) -> None:
    assert faq_store.revision() == 0
    assert faq_store.snapshot() == ([], 0)
    assert faq_store.audit() == []


def test_seed_fills_an_empty_store_once_in_file_order(faq_store: FaqStore) -> None:
    assert faq_store.seed(SEED) is True
    assert faq_store.seed(SEED) is False
    entries, revision = faq_store.snapshot()
    assert [e.id for e in entries] == ["card-payments-failing", "when-fixed", "login-problems"]
    assert entries == SEED
    assert revision == 1
    assert {(r.action, r.actor) for r in faq_store.audit()} == {("seed", "seed")}


def test_a_second_store_on_the_same_database_sees_the_same_data(seeded: FaqStore) -> None:
    other = FaqStore(seeded._engine)  # a replica starting later: no second counter row
    assert other.revision() == 1
    assert other.snapshot()[0] == SEED


def test_add_stores_one_row_with_version_and_audit(seeded: FaqStore) -> None:
    stored = seeded.add(mortgage(), actor="admin:ana")
    assert (stored.version, stored.retired) == (1, False)
    assert seeded.get("mortgage-applications") == stored
    assert seeded.revision() == 2
    record = seeded.audit(limit=1)[0]
    assert (record.actor, record.action, record.entry_id) == (
        "admin:ana",
        "add",
        "mortgage-applications",
    )
    assert record.before is None
    assert record.after is not None and record.after["answer"]["es"].startswith("Las solicitudes")


def test_duplicate_id_is_refused_and_nothing_changes(seeded: FaqStore) -> None:
    clash = replace(mortgage(), id="when-fixed")
    with pytest.raises(DuplicateEntry, match="'when-fixed' is already used"):
        seeded.add(clash, actor="admin:ana")
    assert seeded.revision() == 1
    assert seeded.snapshot()[0] == SEED
    assert len(seeded.audit()) == len(SEED)


def test_a_retired_id_is_not_reused_by_add(seeded: FaqStore) -> None:
    seeded.retire("login-problems", actor="a")
    with pytest.raises(DuplicateEntry, match="retired entry"):
        seeded.add(replace(mortgage(), id="login-problems"), actor="a")


def test_update_bumps_version_and_audits_before_and_after(seeded: FaqStore) -> None:
    old = seeded.get("when-fixed")
    assert old is not None
    new = validate_edit(
        {**entry_to_dict(old.entry), "answer": {"en": "Fixed at 18:00.", "es": "A las 18."}}
    )
    stored = seeded.update(new, actor="admin:bo", expected_version=1)
    assert stored.version == 2 and stored.entry == new
    record = seeded.audit(limit=1, entry_id="when-fixed")[0]
    assert record.action == "edit"
    assert record.before is not None and record.before["answer"]["en"].startswith("We are working")
    assert record.after is not None and record.after["answer"]["en"] == "Fixed at 18:00."


def test_update_without_a_change_is_not_a_change(seeded: FaqStore) -> None:
    entry = SEED[1]
    assert seeded.update(entry, actor="a").version == 1
    assert seeded.revision() == 1


def test_stale_edit_is_refused(seeded: FaqStore) -> None:
    seeded.update(validate_edit({**entry_to_dict(SEED[1]), "tags": ["x"]}), actor="a")
    with pytest.raises(EditConflict, match="changed by someone else"):
        seeded.update(
            validate_edit({**entry_to_dict(SEED[1]), "tags": ["y"]}), actor="b", expected_version=1
        )
    stored = seeded.get("when-fixed")
    assert stored is not None and stored.entry.tags == ("x",)


def test_unknown_entry(seeded: FaqStore) -> None:
    with pytest.raises(UnknownEntry):
        seeded.update(mortgage(), actor="a")
    with pytest.raises(UnknownEntry):
        seeded.retire("nope", actor="a")
    assert seeded.get("nope") is None


def test_retire_and_restore(seeded: FaqStore) -> None:
    stored = seeded.retire("login-problems", actor="admin:ana")
    assert stored.retired and stored.version == 2
    assert [e.id for e in seeded.snapshot()[0]] == ["card-payments-failing", "when-fixed"]
    assert [s.entry.id for s in seeded.search(include_retired=True)][-1] == "when-fixed"
    assert "login-problems" in [s.entry.id for s in seeded.search(include_retired=True)]
    record = seeded.audit(limit=1)[0]
    assert record.action == "retire" and record.before is not None and record.after is None
    seeded.restore("login-problems", actor="admin:ana")
    assert "login-problems" in [e.id for e in seeded.snapshot()[0]]
    assert seeded.audit(limit=1)[0].action == "restore"


def test_changes_since_returns_only_what_changed(seeded: FaqStore) -> None:
    assert seeded.changes_since(1).upserts == () and seeded.changes_since(1).revision == 1
    seeded.add(mortgage(), actor="a")
    seeded.retire("login-problems", actor="a")
    changes = seeded.changes_since(1)
    assert [e.id for e in changes.upserts] == ["mortgage-applications"]
    assert changes.removed == ("login-problems",)
    assert changes.revision == 3
    assert seeded.changes_since(3).upserts == ()


def test_list_searches_ids_tags_and_texts_case_insensitively(seeded: FaqStore) -> None:
    assert [s.entry.id for s in seeded.search("PAYMENTS")] == ["card-payments-failing"]
    assert [s.entry.id for s in seeded.search("cuándo")] == ["when-fixed"]
    assert [s.entry.id for s in seeded.search("sign in")] == ["login-problems"]
    assert len(seeded.search("")) == 3


def test_import_dry_run_changes_nothing(seeded: FaqStore) -> None:
    edited = validate_edit({**entry_to_dict(SEED[1]), "tags": ["eta"]})
    plan = seeded.import_entries(
        [SEED[0], edited, mortgage()], actor="cli:x", retire_missing=True, dry_run=True
    )
    assert plan.added == ("mortgage-applications",)
    assert plan.changed == ("when-fixed",)
    assert plan.unchanged == ("card-payments-failing",)
    assert plan.retired == ("login-problems",)
    assert seeded.revision() == 1
    assert seeded.snapshot()[0] == SEED
    assert len(seeded.audit()) == len(SEED)


def test_import_applies_the_plan_in_one_revision(seeded: FaqStore) -> None:
    seeded.retire("login-problems", actor="a")
    plan = seeded.import_entries([SEED[2], mortgage()], actor="cli:x")
    assert plan.added == ("mortgage-applications",)
    assert plan.changed == ("login-problems",)  # a retired entry comes back
    assert plan.retired == ()
    assert seeded.revision() == 3
    ids = [e.id for e in seeded.snapshot()[0]]
    assert ids == ["card-payments-failing", "when-fixed", "login-problems", "mortgage-applications"]
    assert {r.action for r in seeded.audit(limit=2)} == {"import"}


def test_import_with_nothing_new_is_not_a_change(seeded: FaqStore) -> None:
    plan = seeded.import_entries(SEED, actor="cli:x")
    assert not plan.has_changes and plan.unchanged == tuple(e.id for e in SEED)
    assert seeded.revision() == 1


def test_concurrent_writers_get_distinct_revisions_and_none_is_lost(seeded: FaqStore) -> None:
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            seeded.add(replace(mortgage(), id=f"entry-{i}"), actor=f"w{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert seeded.revision() == 9
    assert len(seeded.changes_since(1).upserts) == 8
