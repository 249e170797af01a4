"""Property-based tests: the status parsers take any input and either parse it or raise
their one documented error, a single clear line (no crash, nothing else escapes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st

from bot.status.atom import loads_feed
from bot.status.codec import snapshot_from_dict, snapshot_to_dict
from bot.status.errors import FeedFormatError, StatusError, WebhookError
from bot.status.model import StatusSnapshot
from bot.status.sources import decode
from bot.status.statuspage import loads, merge
from bot.status.webhooks import apply_webhook, check_webhook, loads_webhook
from tests.fuzz.strategies import any_bytes, documents, json_bytes, json_values

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

UPDATE = ["id", "status", "body", "created_at", "display_at", "updated_at", "affected_components"]
INCIDENT = ["id", "name", "status", "impact", "created_at", "updated_at", "started_at",
            "monitoring_at", "resolved_at", "shortlink", "scheduled_for", "scheduled_until",
            "incident_updates", "components"]  # fmt: skip
COMPONENT = ["id", "name", "status", "group_id", "group", "position", "description", "updated_at"]
PAGE = ["id", "name", "url", "updated_at", "time_zone"]

incidents = st.lists(
    documents(INCIDENT, nested={"incident_updates": UPDATE, "components": COMPONENT}), max_size=3
)
summaries = documents(
    ["page", "status", "components", "incidents", "scheduled_maintenances"],
    nested={"components": COMPONENT, "incidents": INCIDENT, "scheduled_maintenances": INCIDENT},
)


def one_clear_line(exc: Exception) -> None:
    message = str(exc)
    assert message and "\n" not in message and len(message) < 2000, message


def parsed_or_refused(parse: Any, raw: Any, error: type[Exception] = StatusError) -> Any:
    try:
        return parse(raw)
    except error as exc:
        one_clear_line(exc)
        return None


@given(st.one_of(any_bytes(), json_bytes(json_values()), json_bytes(summaries)))
def test_statuspage_documents(raw: bytes) -> None:
    snap = parsed_or_refused(lambda r: loads(r, fetched_at=NOW), raw, FeedFormatError)
    if snap is not None:
        assert isinstance(snap, StatusSnapshot)
        # what was parsed survives the codec the store uses, and merges with itself
        assert snapshot_from_dict(snapshot_to_dict(snap)) == snap
        merge([snap, snap])


@given(st.one_of(any_bytes(), json_bytes(summaries)))
def test_any_feed_body(raw: bytes) -> None:
    parsed_or_refused(lambda r: decode(r, fetched_at=NOW), raw)


@given(st.one_of(json_values(), summaries))
def test_the_saved_status_codec(data: Any) -> None:
    if isinstance(data, dict):
        parsed_or_refused(snapshot_from_dict, data, FeedFormatError)


webhooks = st.fixed_dictionaries(
    {},
    optional={
        "meta": documents(["unsubscribe", "documentation", "generated_at"]),
        "page": documents(["id", "status_indicator", "status_description"]),
        "incident": documents(
            INCIDENT, nested={"incident_updates": UPDATE, "components": COMPONENT}
        ),
        "component": documents(COMPONENT),
        "component_update": documents(["created_at", "old_status", "new_status", "id"]),
    },
)


@given(st.one_of(any_bytes(), json_bytes(json_values()), json_bytes(webhooks)), st.data())
def test_webhook_deliveries(raw: bytes, data: st.DataObject) -> None:
    payload = parsed_or_refused(loads_webhook, raw, WebhookError)
    if payload is None:
        return
    base = StatusSnapshot() if data.draw(st.booleans()) else None
    snap = parsed_or_refused(
        lambda p: apply_webhook(base, p, received_at=NOW), payload, WebhookError
    )
    if snap is not None:
        assert snapshot_from_dict(snapshot_to_dict(snap)) == snap
        check_webhook(payload)  # still an object with an incident or a component


dates = st.sampled_from(
    ["2026-12-05T10:00:00Z", "2026-12-05T10:00:00+02:00", "yesterday", "",
     "Sat, 05 Dec 2026 10:00:00 GMT", "9999-99-99T00:00:00Z"]
)  # fmt: skip
texts = st.text(max_size=60)


def _atom_entry(title: str, updated: str, content: str, term: str) -> str:
    return (
        f"<entry><id>tag:status.example,2005:Incident/{escape(term)}</id><title>{escape(title)}</title>"
        f"<updated>{escape(updated)}</updated><published>{escape(updated)}</published>"
        f'<link rel="alternate" type="text/html" href="https://status.example/incidents/x"/>'
        f'<content type="html">{escape(content)}</content></entry>'
    )


atom_docs = st.builds(
    lambda updated, entries: (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Status</title><updated>{escape(updated)}</updated>{''.join(entries)}</feed>"
    ).encode(),
    dates,
    st.lists(
        st.builds(
            _atom_entry,
            texts,
            dates,
            st.one_of(
                texts,
                st.sampled_from(
                    [
                        "<p><small>Dec <var>5</var>, <var>10:00</var> UTC</small><br>"
                        "<strong>Resolved</strong> - fixed</p>",
                        "<p><strong>Investigating</strong></p>",
                    ]
                ),
            ),
            st.text(alphabet="abcxyz019-", max_size=12),
        ),
        max_size=4,
    ),
)
rss_docs = st.builds(
    lambda items: (
        "<rss version='2.0'><channel><title>S</title>"
        + "".join(
            f"<item><title>{escape(t)}</title><description>{escape(d)}</description>"
            f"<pubDate>{escape(p)}</pubDate><guid>{escape(g)}</guid></item>"
            for t, d, p, g in items
        )
        + "</channel></rss>"
    ).encode(),
    st.lists(st.tuples(texts, texts, dates, texts), max_size=4),
)


@given(st.one_of(any_bytes(), atom_docs, rss_docs))
def test_atom_and_rss_feeds(raw: bytes) -> None:
    snap = parsed_or_refused(lambda r: loads_feed(r, fetched_at=NOW), raw, FeedFormatError)
    if snap is not None:
        assert snapshot_from_dict(snapshot_to_dict(snap)) == snap


def test_billion_laughs_is_refused_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>'
    )
    try:
        loads_feed(bomb, fetched_at=NOW)
    except FeedFormatError as exc:
        one_clear_line(exc)
    else:
        raise AssertionError("a DOCTYPE with entities must be refused")
