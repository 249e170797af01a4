"""The broadcast preview shows email and SMS as subscribers get them: the email's subject,
text part and HTML part (in a sandboxed frame with its own strict policy), the SMS body
with its segments and encoding, and recipient counts per channel and language."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from bot.broadcast.subscriptions import Recipient
from bot.channels.sms.segments import count
from faq_index import Encoder
from tests.admin.test_broadcasts import BroadcastAdmin, make_broadcast_admin

CONTACTS = (
    Recipient("email:ana@example.com", "email", "ana@example.com", "es"),
    Recipient("email:bo@example.com", "email", "bo@example.com", "en"),
    Recipient("email:cy@example.com", "email", "cy@example.com", "en"),
    Recipient("sms:+34612345678", "sms", "+34612345678", "es"),
)
_ROW = re.compile(
    r'<tr data-channel="(\w+)" data-lang="(\w+)">\s*<td>\w+</td><td>\w+</td>'
    r'<td class="num">(\d+)</td>\s*<td>(.*?)</td>\s*</tr>',
    re.S,
)


@pytest.fixture
def staff(tmp_path: Path, encoder: Encoder) -> Iterator[BroadcastAdmin]:
    admin = make_broadcast_admin(tmp_path, encoder)
    admin.broadcaster.subscriptions.add_many([(r, ()) for r in CONTACTS])
    assert admin.login().url.path == "/admin"
    yield admin
    admin.client.close()
    admin.app_store.dispose()


def _rows(page: str) -> dict[tuple[str, str], tuple[int, str]]:
    return {(c, lang): (int(n), cell) for c, lang, n, cell in _ROW.findall(page)}


def test_email_and_sms_rendered_with_counts(staff: BroadcastAdmin) -> None:
    texts = {
        "en": "Branches <script>alert(1)</script> close at 3pm",
        "es": "Las oficinas cierran a las 15 h; la aplicación móvil sigue funcionando.",
    }
    before = staff.db()
    response = staff.submit({**texts, "action": "preview"})
    assert response.status_code == 200
    rows = _rows(response.text)
    assert rows[("email", "en")][0] == 2 and rows[("email", "es")][0] == 1
    assert rows[("sms", "es")][0] == 1 and rows[("sms", "en")][0] == 0
    assert re.search(r'class="total">9<', response.text)  # 5 chat + 3 email + 1 SMS

    # email: subject from the template, the text part, the HTML in a sandboxed frame
    email_es = rows[("email", "es")][1]
    assert "<strong>Subject:</strong> Northwind Bank: Aviso" in email_es
    frame = re.search(r'<iframe class="email-html" sandbox title="[^"]+" src="([^"]+)"', email_es)
    assert frame, email_es
    text_part = html.unescape(re.findall(r"<pre>(.*?)</pre>", email_es, re.S)[0])
    assert "Las oficinas cierran a las 15 h" in text_part
    assert "Darte de baja de estos avisos: https://" in text_part
    shown = staff.client.get(html.unescape(frame.group(1)))
    assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/html")
    policy = shown.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert "Las oficinas cierran a las 15 h" in shown.text and "#14324f" in shown.text
    # what staff typed is text in the email, never markup
    email_en = rows[("email", "en")][1]
    frame_en = re.search(r'src="([^"]+)"', email_en)
    assert frame_en
    shown_en = staff.client.get(html.unescape(frame_en.group(1))).text
    assert "<script>" not in shown_en and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown_en
    assert "<script>" not in response.text.split("<form", 1)[1]

    # SMS: the body as sent, with its segments; Spanish accents force UCS-2
    sms_es = rows[("sms", "es")][1]
    body = html.unescape(re.findall(r'<pre class="sms-body">(.*?)</pre>', sms_es, re.S)[0])
    counted = count(body)
    assert counted.encoding == "UCS-2" and counted.segments == 2
    assert f"{counted.segments} segment(s), UCS-2, {counted.units} characters" in sms_es
    sms_en = rows[("sms", "en")][1]
    body_en = html.unescape(re.findall(r'<pre class="sms-body">(.*?)</pre>', sms_en, re.S)[0])
    assert count(body_en).encoding == "GSM-7" and "GSM-7" in sms_en
    assert staff.db() == before  # a preview writes nothing


def test_the_email_frame_refuses_bad_requests(staff: BroadcastAdmin) -> None:
    for query in ("lang=xx&text=Hi", "lang=en&text=", "lang=en"):
        response = staff.client.get("/admin/broadcasts/email-preview?" + query)
        assert response.status_code == 400, query
    staff.client.cookies.clear()
    response = staff.client.get(
        "/admin/broadcasts/email-preview?lang=en&text=Hi", follow_redirects=False
    )
    assert response.status_code == 303  # signed-in staff only


def test_spanish_console_labels(staff: BroadcastAdmin) -> None:
    staff.client.get("/admin/broadcasts?ui=es")
    response = staff.submit({"en": "Hi", "es": "Hola", "action": "preview"})
    assert "<strong>Asunto:</strong>" in response.text and "segmento(s), GSM-7" in response.text
    assert unquote("Parte%20de%20texto%20plano") in response.text
