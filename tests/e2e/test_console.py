"""End to end through a real Rasa server: the console teaches the bot and rewords it, live.

A group of questions the bot declined is mapped to an entry in the console: the next
time customers ask them, the bot answers them from that entry. A status template is
edited in the console: the next status answer uses it, with no restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bot.stack import ROOT, Stack, running_stack
from bot.templates import TemplateStore

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-console-password"
FAQ = {e["id"]: e for e in yaml.safe_load((ROOT / "data/faq/bank.yml").read_text())["faqs"]}
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])
QUESTIONS = ["can I buy crypto in your app", "do you offer crypto trading"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir: Path = tmp_path_factory.mktemp("faro-e2e-console")
    with running_stack(data_dir, extra_env={"FARO_ADMIN_PASSWORD": PASSWORD}) as running:
        yield running


@pytest.fixture
def staff(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.app_url, timeout=60) as client:
        login = client.get("/admin/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', login)
        assert csrf
        done = client.post(
            "/admin/login", data={"csrf": csrf.group(1), "name": "Ana", "password": PASSWORD}
        )
        assert done.status_code == 303
        yield client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def texts(stack: Stack, question: str) -> list[str]:
    return [m["text"] for m in stack.chat(question)["messages"]]


def test_a_mapped_group_is_answered_by_the_bot(stack: Stack, staff: httpx.Client) -> None:
    for q in QUESTIONS:
        assert texts(stack, q) == [TEMPLATES.render("faq_decline", "en")]
    page = staff.get("/admin/unanswered").text
    groups = re.findall(r'<li class="group" id="group-(\d+)">\s*<h2>(.*?)</h2>', page, re.S)
    [gid] = [g for g, head in groups if "crypto" in head]
    mapped = staff.post(
        f"/admin/unanswered/groups/{gid}/map",
        data={"csrf": csrf_of(page), "entry_id": "status-updates"},
    )
    assert mapped.status_code == 303
    expected = " ".join(str(FAQ["status-updates"]["answer"]["en"]).split())
    for q in QUESTIONS:
        assert [" ".join(t.split()) for t in texts(stack, q)] == [expected]


def test_an_edited_template_is_the_next_status_answer(stack: Stack, staff: httpx.Client) -> None:
    key = "status.incident.identified"
    before = " ".join(texts(stack, "is something broken right now?"))
    assert "CONSOLE EDIT" not in before
    page = staff.get(f"/admin/templates/{key}").text
    saved = staff.post(
        f"/admin/templates/{key}",
        data={
            "csrf": csrf_of(page),
            "text_en": "CONSOLE EDIT as of {as_of}: we know what broke ({name}).",
            "action": "save",
        },
    )
    assert saved.status_code == 303
    after = " ".join(texts(stack, "is something broken right now?"))
    assert "CONSOLE EDIT as of " in after and "we know what broke" in after
