"""Sources: conditional HTTP with httpx.MockTransport, Atom over HTTP, local files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from bot.status.errors import FeedFormatError, FeedUnavailable
from bot.status.model import IncidentStatus
from bot.status.sources import (
    MAX_BODY_BYTES,
    AtomSource,
    FileSource,
    StatuspageSource,
    redact,
    source_for,
)
from tests.helpers.status_builders import FIXTURES, SAMPLE_FEED, T0, incident, summary, update

PAGE = "https://status.northwind.example"
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


class Site:
    """A fake Statuspage answering by path, with ETags and Last-Modified."""

    def __init__(self) -> None:
        self.docs: dict[str, object] = {
            "/api/v2/summary.json": summary(
                incidents=[incident(update("investigating", "Looking", T0))], indicator="major"
            ),
            "/api/v2/incidents.json": {"incidents": []},
            "/api/v2/scheduled-maintenances.json": {"scheduled_maintenances": []},
        }
        self.seen: list[httpx.Request] = []
        self.override: httpx.Response | Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if isinstance(self.override, Exception):
            raise self.override
        if self.override is not None:
            return self.override
        body = json.dumps(self.docs[request.url.path]).encode()
        etag = f'"{hash(body) & 0xFFFFFF:x}"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(
            200,
            content=body,
            headers={
                "ETag": etag,
                "Last-Modified": "Mon, 02 Mar 2026 09:00:00 GMT",
                "Content-Type": "application/json",
            },
        )


async def test_base_url_reads_the_three_endpoints() -> None:
    site = Site()
    source = StatuspageSource(PAGE + "/", client=client(site))
    snap = await source.fetch()
    assert snap is not None and snap.open_incidents()[0].status is IncidentStatus.INVESTIGATING
    assert [r.url.path for r in site.seen] == [
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/api/v2/scheduled-maintenances.json",
    ]
    assert source.description == PAGE + "/api/v2/summary.json"


async def test_a_direct_json_url_is_used_as_is() -> None:
    site = Site()
    source = StatuspageSource(PAGE + "/api/v2/summary.json", client=client(site))
    assert await source.fetch() is not None
    assert [r.url.path for r in site.seen] == ["/api/v2/summary.json"]


async def test_etag_and_if_modified_since_then_304() -> None:
    site = Site()
    source = StatuspageSource(PAGE, client=client(site))
    first = await source.fetch()
    site.seen.clear()
    assert await source.fetch() is None  # nothing changed
    assert all(r.headers.get("if-none-match") for r in site.seen)
    assert all(r.headers["if-modified-since"] == "Mon, 02 Mar 2026 09:00:00 GMT" for r in site.seen)
    # One document changes: the merged snapshot reflects it, the others come from cache.
    site.docs["/api/v2/incidents.json"] = {
        "incidents": [incident(update("resolved", "Fixed", T0.replace(hour=10)), iid="old")]
    }
    changed = await source.fetch()
    assert changed is not None and first is not None
    assert {i.id for i in changed.incidents} == {"inc1", "old"}
    assert changed.indicator == first.indicator


@pytest.mark.parametrize(
    ("failure", "error", "message"),
    [
        (httpx.ReadTimeout("slow"), FeedUnavailable, "timed out after 2s"),
        (httpx.ConnectError("[Errno 111] Connection refused"), FeedUnavailable, "cannot connect"),
        (httpx.Response(500, text="oops"), FeedUnavailable, "HTTP 500"),
        (httpx.Response(404), FeedUnavailable, "HTTP 404"),
        (
            httpx.Response(200, text="<html>login</html>", headers={"Content-Type": "text/html"}),
            FeedFormatError,
            "HTML page",
        ),
        (
            httpx.Response(
                200, text="<!DOCTYPE html><html>", headers={"Content-Type": "application/json"}
            ),
            FeedFormatError,
            "HTML, not JSON",
        ),
        (httpx.Response(200, text='{"page": {"id": "x"}, "incid'), FeedFormatError, "invalid JSON"),
    ],
)
async def test_failures_translate_to_one_clear_error(
    failure: httpx.Response | Exception, error: type[Exception], message: str
) -> None:
    site = Site()
    site.override = failure
    source = StatuspageSource(PAGE, client=client(site), timeout=2)
    with pytest.raises(error, match=message) as caught:
        await source.fetch()
    assert "\n" not in str(caught.value)


async def test_a_half_failed_poll_keeps_nothing_and_refetches_in_full() -> None:
    site = Site()
    source = StatuspageSource(PAGE, client=client(site))
    await source.fetch()
    site.docs["/api/v2/summary.json"] = summary(indicator="none")
    bad_incidents = httpx.Response(500)

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("incidents.json"):
            return bad_incidents
        return site(request)

    source._reader._client = client(flaky)  # same source, now the second endpoint fails
    with pytest.raises(FeedUnavailable):
        await source.fetch()
    source._reader._client = client(site)
    site.seen.clear()
    snap = await source.fetch()
    assert snap is not None and snap.open_incidents() == []
    assert not any(r.headers.get("if-none-match") for r in site.seen)


async def test_credentials_and_queries_never_reach_messages() -> None:
    site = Site()
    site.override = httpx.Response(503)
    source = StatuspageSource(
        "https://user:secret@status.example/api/v2/summary.json?api_key=k", client=client(site)
    )
    with pytest.raises(FeedUnavailable) as caught:
        await source.fetch()
    assert "secret" not in str(caught.value) and "api_key" not in str(caught.value)
    assert redact("https://u:p@h.example:8443/a?b=c#d") == "https://h.example:8443/a"


async def test_atom_source_with_304() -> None:
    atom = (FIXTURES / "atom" / "history.atom").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200, content=atom, headers={"ETag": '"v1"', "Content-Type": "application/atom+xml"}
        )

    source = AtomSource("https://www.githubstatus.com/history.atom", client=client(handler))
    snap = await source.fetch()
    assert snap is not None and len(snap.incidents) == 2
    assert await source.fetch() is None


async def test_atom_source_refuses_html() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            text="<!doctype html><p>maintenance</p>",
            headers={"Content-Type": "application/xml"},
        )

    with pytest.raises(FeedFormatError, match="HTML"):
        await AtomSource("https://x.example/history.atom", client=client(handler)).fetch()


async def test_file_source_reads_once_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    path.write_bytes(SAMPLE_FEED.read_bytes())
    source = FileSource(path)
    first = await source.fetch()
    assert first is not None and first.page.name == "Northwind Bank"
    assert await source.fetch() is None
    path.write_text(json.dumps(summary(indicator="none")), encoding="utf-8")
    changed = await source.fetch()
    assert changed is not None and changed.open_incidents() == []


async def test_file_source_reads_atom_too() -> None:
    snap = await FileSource(FIXTURES / "atom" / "history.atom").fetch()
    assert snap is not None and snap.incidents


async def test_file_source_errors(tmp_path: Path) -> None:
    with pytest.raises(FeedUnavailable, match="cannot read"):
        await FileSource(tmp_path / "missing.json").fetch()
    bad = tmp_path / "bad.json"
    bad.write_text("{truncated", encoding="utf-8")
    with pytest.raises(FeedFormatError, match="bad.json: the feed sent invalid JSON"):
        await FileSource(bad).fetch()


def test_source_for_picks_the_adapter(tmp_path: Path) -> None:
    assert isinstance(source_for("https://status.example"), StatuspageSource)
    assert isinstance(source_for("https://status.example/api/v2/summary.json"), StatuspageSource)
    assert isinstance(source_for("https://status.example/history.atom"), AtomSource)
    assert isinstance(source_for("https://health.example/feed"), AtomSource)
    assert isinstance(source_for("https://health.example/rss.xml"), AtomSource)
    assert isinstance(source_for(str(tmp_path / "x.json")), FileSource)


# --- issue 19: bounded streaming reads, redirects not followed ---------------------------


class Endless(httpx.AsyncByteStream):
    """A body that never ends (no Content-Length), counting the chunks it was asked for."""

    def __init__(self) -> None:
        self.served = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.served < 10_000:  # 640 MB: far past any cap, finite so a bug cannot hang
            self.served += 1
            yield b" " * 65_536


async def test_an_oversized_feed_is_refused_without_reading_it_all() -> None:
    # The finding: the poller read whole bodies before the size check.
    body = Endless()
    source = AtomSource(
        PAGE + "/history.atom", client=client(lambda r: httpx.Response(200, stream=body))
    )
    with pytest.raises(FeedFormatError, match="larger than"):
        await source.fetch()
    assert body.served * 65_536 <= MAX_BODY_BYTES + 2 * 65_536, f"read {body.served} chunks"


async def test_a_lying_content_length_is_refused_before_reading() -> None:
    body = Endless()
    big = httpx.Response(200, stream=body, headers={"Content-Length": str(MAX_BODY_BYTES + 1)})
    source = AtomSource(PAGE + "/history.atom", client=client(lambda r: big))
    with pytest.raises(FeedFormatError, match="larger than"):
        await source.fetch()
    assert body.served == 0


async def test_redirects_are_not_followed() -> None:
    # The finding: redirects were followed (a feed URL could send the poller anywhere).
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})

    source = StatuspageSource(PAGE, client=client(handler))
    with pytest.raises(FeedUnavailable, match="redirect"):
        await source.fetch()
    assert all("169.254" not in url for url in seen)
    own = StatuspageSource(PAGE)  # the client it makes itself does not follow either
    assert own._reader._http().follow_redirects is False
    await own.aclose()
