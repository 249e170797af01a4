"""Where status comes from: the ``StatusSource`` port and its file, Statuspage and Atom adapters."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.status import atom, statuspage
from bot.status.errors import FeedFormatError, FeedUnavailable
from bot.status.model import StatusSnapshot

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
MAX_BODY_BYTES = 5_000_000
USER_AGENT = "faro-status/0.1"
STATUSPAGE_ENDPOINTS = ("summary.json", "incidents.json", "scheduled-maintenances.json")


class StatusSource(Protocol):
    """A place to read the status page from."""

    @property
    def description(self) -> str:
        """Where this source reads from, safe to log (no secrets)."""
        ...

    async def fetch(self) -> StatusSnapshot | None:
        """Read the current state; None when it has not changed since the last fetch."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def redact(url: str) -> str:
    """``url`` without credentials, query or fragment, for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def decode(raw: bytes, *, fetched_at: datetime) -> StatusSnapshot:
    """Parse a Statuspage JSON or an Atom/RSS document, telling them apart by content."""
    head = raw[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if b"<html" in head.lower() or b"<!doctype html" in head.lower():
            raise FeedFormatError("the feed sent an HTML page, not a status document")
        return atom.loads_feed(raw, fetched_at=fetched_at)
    return statuspage.loads(raw, fetched_at=fetched_at)


class FileSource:
    """A local JSON or Atom file: the embedded default, and for demos and drills."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._seen: tuple[float, int] | None = None

    @property
    def description(self) -> str:
        """The file path."""
        return str(self.path)

    async def fetch(self) -> StatusSnapshot | None:
        """Read the file; None if its modification time and size are unchanged."""
        try:
            stat = await asyncio.to_thread(self.path.stat)
            raw = await asyncio.to_thread(self.path.read_bytes)
        except OSError as exc:
            raise FeedUnavailable(f"{self.path}: cannot read ({exc.strerror or exc})") from exc
        key = (stat.st_mtime, stat.st_size)
        if key == self._seen:
            return None
        try:
            snapshot = decode(raw, fetched_at=datetime.now(UTC))
        except FeedFormatError as exc:
            raise FeedFormatError(f"{self.path}: {exc}") from exc
        self._seen = key
        return snapshot

    async def aclose(self) -> None:
        """Nothing to release."""


@dataclass(slots=True)
class _Validators:
    etag: str | None = None
    last_modified: str | None = None


class _HttpReader:
    """Conditional GETs (ETag / If-Modified-Since) with errors translated to the status tree."""

    def __init__(self, *, client: httpx.AsyncClient | None, timeout: float) -> None:
        self.timeout = timeout
        self._client = client
        self._owns_client = client is None
        self._validators: dict[str, _Validators] = {}

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers={"User-Agent": USER_AGENT}, follow_redirects=False
            )
        return self._client

    async def get(self, url: str) -> bytes | None:
        """The body at ``url``, or None on 304 Not Modified."""
        seen = self._validators.setdefault(url, _Validators())
        headers = {"Accept": "application/json, application/atom+xml, application/xml;q=0.9"}
        if seen.etag:
            headers["If-None-Match"] = seen.etag
        if seen.last_modified:
            headers["If-Modified-Since"] = seen.last_modified
        where = redact(url)
        try:
            # Redirects are not followed (a feed URL must not send the poller elsewhere), and
            # the body is read in chunks, stopping at the cap instead of buffering it all.
            request = self._http().build_request("GET", url, headers=headers, timeout=self.timeout)
            response = await self._http().send(request, stream=True, follow_redirects=False)
            try:
                body = await self._checked_body(response, where)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise FeedUnavailable(f"{where}: timed out after {self.timeout:g}s") from exc
        except httpx.HTTPError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FeedUnavailable(f"{where}: cannot connect ({reason})") from exc
        if body is None:
            return None
        self._validators[url] = _Validators(
            etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified")
        )
        return body

    @staticmethod
    async def _checked_body(response: httpx.Response, where: str) -> bytes | None:
        if response.status_code == 304:
            return None
        if response.is_redirect:
            target = redact(response.headers.get("location", "") or "nowhere")
            raise FeedUnavailable(
                f"{where}: HTTP {response.status_code} redirect to {target} (not followed: "
                "configure the final URL)"
            )
        if response.status_code >= 400:
            raise FeedUnavailable(f"{where}: HTTP {response.status_code}")
        if "html" in response.headers.get("content-type", "").lower():
            raise FeedFormatError(f"{where}: the feed sent an HTML page, not a status document")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise FeedFormatError(f"{where}: larger than {MAX_BODY_BYTES} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise FeedFormatError(f"{where}: larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def get_full(self, url: str) -> bytes:
        """The body at ``url``, fetched unconditionally."""
        self.forget(url)
        body = await self.get(url)
        if body is None:
            raise FeedFormatError(f"{redact(url)}: answered 304 to an unconditional request")
        return body

    def forget(self, url: str) -> None:
        """Drop the validators of ``url`` (its body could not be used)."""
        self._validators.pop(url, None)

    async def aclose(self) -> None:
        """Close the HTTP client if this reader created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None


class StatuspageSource:
    """An Atlassian Statuspage: reads summary, recent incidents and maintenances (v2 API)."""

    def __init__(
        self,
        page_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        endpoints: tuple[str, ...] = STATUSPAGE_ENDPOINTS,
    ) -> None:
        base = page_url.rstrip("/")
        self.urls: tuple[str, ...]
        if base.endswith(".json"):
            self.urls = (page_url,)
        else:
            base = base.removesuffix("/api/v2")
            self.urls = tuple(f"{base}/api/v2/{e}" for e in endpoints)
        self._reader = _HttpReader(client=client, timeout=timeout)
        self._documents: dict[str, StatusSnapshot] = {}

    @property
    def description(self) -> str:
        """The (redacted) first endpoint URL."""
        return redact(self.urls[0])

    async def fetch(self) -> StatusSnapshot | None:
        """Fetch every endpoint conditionally; None when none of them changed."""
        changed = False
        fresh: dict[str, StatusSnapshot] = {}
        now = datetime.now(UTC)
        try:
            for url in self.urls:
                body = await self._reader.get(url)
                if body is None and url in self._documents:
                    continue
                if body is None:  # 304 for a document we never parsed: ask again in full
                    body = await self._reader.get_full(url)
                try:
                    fresh[url] = statuspage.loads(body, fetched_at=now)
                except FeedFormatError as exc:
                    raise FeedFormatError(f"{redact(url)}: {exc}") from exc
                changed = True
        except (FeedFormatError, FeedUnavailable):
            for url in self.urls:  # nothing kept: the next poll fetches every document in full
                self._reader.forget(url)
            raise
        # Commit only when every endpoint succeeded, so a half-failed poll changes nothing.
        self._documents.update(fresh)
        if not changed:
            return None
        return statuspage.merge(self._documents[u] for u in self.urls)

    async def aclose(self) -> None:
        """Close the HTTP client if this source created it."""
        await self._reader.aclose()


class AtomSource:
    """An Atom or RSS status feed (Statuspage history.atom, cloud providers, Cachet)."""

    def __init__(
        self, url: str, *, client: httpx.AsyncClient | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.url = url
        self._reader = _HttpReader(client=client, timeout=timeout)
        self._parsed = False

    @property
    def description(self) -> str:
        """The (redacted) feed URL."""
        return redact(self.url)

    async def fetch(self) -> StatusSnapshot | None:
        """Fetch the feed conditionally; None when unchanged."""
        body = await self._reader.get(self.url)
        if body is None and self._parsed:
            return None
        if body is None:
            body = await self._reader.get_full(self.url)
        try:
            snapshot = decode(body, fetched_at=datetime.now(UTC))
        except FeedFormatError as exc:
            self._reader.forget(self.url)
            raise FeedFormatError(f"{self.description}: {exc}") from exc
        self._parsed = True
        return snapshot

    async def aclose(self) -> None:
        """Close the HTTP client if this source created it."""
        await self._reader.aclose()


def source_for(
    spec: str, *, client: httpx.AsyncClient | None = None, timeout: float = DEFAULT_TIMEOUT
) -> StatusSource:
    """The source for a feed setting: a Statuspage URL, an Atom/RSS URL, or a local file."""
    if spec.startswith(("http://", "https://")):
        path = urlsplit(spec).path.lower()
        if path.endswith((".atom", ".rss", ".xml")) or path.rstrip("/").endswith("/feed"):
            return AtomSource(spec, client=client, timeout=timeout)
        return StatuspageSource(spec, client=client, timeout=timeout)
    return FileSource(Path(spec).expanduser())
