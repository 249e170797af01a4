"""The email of one update: multipart, subject from the template, RFC 8058 headers, stable
Message-ID, and no way for an address or a text to add a header."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.broadcast.delivery import PermanentFailure
from bot.channels.contact.links import Links
from bot.channels.email.render import RenderError, render_email, subject_line
from bot.channels.email.sender import EmailDeliverer, SmtpSender, SmtpServer
from bot.templates import TemplateStore

TEMPLATES = TemplateStore.from_paths([Path(__file__).resolve().parents[3] / "data/templates"])
UNSUB = "https://updates.example/subscribe/unsubscribe?t=abc"


def build(text: str, *, to: str = "ana@example.com", ref: str = "outbox-7") -> EmailMessage:
    return render_email(
        text=text,
        lang="en",
        to=to,
        sender="updates@northwind.example",
        templates=TEMPLATES,
        unsubscribe_url=UNSUB,
        ref=ref,
    )


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_an_update_is_multipart_with_the_list_headers() -> None:
    message = reparse(build("🔔 Update: Card payments\nWe are working on it.\nFooter line."))
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Northwind Bank: Update: Card payments"
    assert message["From"] == "Northwind Bank <updates@northwind.example>"
    assert message["To"] == "ana@example.com"
    assert message["List-Unsubscribe"] == f"<{UNSUB}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"


def test_the_message_id_is_stable_per_row_and_recipient() -> None:
    text = "📣 Announcement\nBranches close at 6.\nFooter."
    first, retry = build(text), build(text)
    assert first["Message-ID"] == retry["Message-ID"]
    assert build(text, ref="outbox-8")["Message-ID"] != first["Message-ID"]
    assert build(text, to="bo@example.com")["Message-ID"] != first["Message-ID"]


def test_html_escapes_the_text_and_links_only_http_urls() -> None:
    text = "Update\n<script>alert(1)</script> see https://status.example/x?a=1&b=2 now\nF"
    html = build(text).get_body(preferencelist=("html",))
    assert html is not None
    content = str(html.get_content())
    assert "<script>" not in content and "&lt;script&gt;" in content
    assert '<a href="https://status.example/x?a=1&amp;b=2">' in content


@pytest.mark.parametrize(
    "to",
    ["ana@example.com\r\nBcc: victim@example.com", "ana@example.com\nX: y", "Ana <a@example.com>"],
)
def test_an_address_cannot_add_a_header_or_recipient(to: str) -> None:
    with pytest.raises(RenderError):
        build("Update\nBody\nF", to=to)


def test_a_headline_with_line_breaks_stays_one_subject_line() -> None:
    # staff text or a status page title with CR/LF: the subject is folded into one line
    assert subject_line(TEMPLATES, "en", "📣 Cards\rBcc: x@example.com") == (
        "Northwind Bank: Cards Bcc: x@example.com"
    )
    message = reparse(build("🔔 Update: A\r\nBcc: evil@example.com\nBody\nF"))
    assert message["Bcc"] is None
    assert "evil@example.com" not in str(message["To"])


def test_an_organisation_name_with_a_line_break_cannot_add_a_header(tmp_path: Path) -> None:
    # the From display name comes from a staff-editable template: CR/LF in it is refused,
    # and the deliverer turns that into a failed row with its reason (nothing sent)
    source = Path(__file__).resolve().parents[3] / "data/templates"
    for path in source.glob("*.yml"):
        text = path.read_text()
        if path.name == "contact.yml":
            text = text.replace('en: "Northwind Bank"', 'en: "Bank\\r\\nBcc: evil@example.com"', 1)
        (tmp_path / path.name).write_text(text)
    templates = TemplateStore.from_paths([tmp_path])
    assert "\r\n" in templates.render("contact.org", "en")
    server = SmtpServer(host="127.0.0.1", port=9)  # never reached: refused before sending
    deliverer = EmailDeliverer(
        SmtpSender(server, rate_per_s=10),
        from_address="updates@northwind.example",
        templates=templates,
        links=Links(secret="s", public_url="https://updates.example", ttl_s=60),
    )
    with pytest.raises(PermanentFailure, match="not sendable"):
        asyncio.run(deliverer.deliver("ana@example.com", "Update\nBody\nF", "en", ref="r"))
    with pytest.raises(ValueError, match="CR or LF"):
        render_email(
            text="Update\nBody\nF",
            lang="en",
            to="ana@example.com",
            sender="updates@northwind.example",
            templates=templates,
            unsubscribe_url=UNSUB,
            ref="outbox-8",
        )
