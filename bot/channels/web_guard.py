"""Abuse controls of the web channel: the Origin allow-list and token-bucket rate limits."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bot.http import HttpError, error_response

logger = logging.getLogger(__name__)


class OriginPolicy:
    """Which web pages may talk to the chat API (checked on the ``Origin`` header).

    Always the app's own origin: ``public_origin`` when configured (the ``Host``
    header is then never trusted for it), else the request's scheme and host.
    Other origins only when listed (``*``: any). Loopback pages are not special.
    """

    def __init__(
        self, allowed: Iterable[str] | None = None, *, public_origin: str | None = None
    ) -> None:
        items = tuple(allowed) if allowed is not None else ()
        self.any = "*" in items
        self.allowed = frozenset(normalize_origin(o) for o in items if o != "*")
        self.public_origin = normalize_origin(public_origin) if public_origin else None

    def allows(self, origin: str | None, *, own: str) -> bool:
        """True when a request with ``Origin: origin`` may use the API (``own``: the request's)."""
        if origin is None:  # not sent by a browser (curl, server-side clients) or same-origin GET
            return True
        origin = normalize_origin(origin)
        own = self.public_origin or normalize_origin(own)
        return self.any or origin == own or origin in self.allowed


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports removed, no trailing slash."""
    origin = origin.strip().rstrip("/").lower()
    for scheme, port in (("http://", ":80"), ("https://", ":443")):
        if origin.startswith(scheme) and origin.endswith(port):
            return origin[: -len(port)]
    return origin


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key: ``per_minute`` tokens refill evenly; a full minute may burst."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens of ``key``; 0 when allowed, else seconds until it would be."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        # A refilled bucket is the same as a new one: forget those first, then the
        # fullest half, so the keys being limited right now are the last forgotten.
        level = {k: b.tokens + (now - b.updated) * self.rate for k, b in self._buckets.items()}
        for k in [k for k, v in level.items() if v >= self.capacity]:
            del self._buckets[k]
        if len(self._buckets) >= self._max_keys:
            fullest = sorted(self._buckets, key=lambda k: level[k], reverse=True)
            for k in fullest[: len(fullest) // 2 + 1]:
                del self._buckets[k]
        logger.debug("rate limiter pruned to %d keys", len(self._buckets))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused: HTTP status, one clear sentence, seconds to wait."""

    status: int
    message: str
    retry_after: int = 0


class WebGuard:
    """Per-session and per-IP limits of the web channel."""

    def __init__(self, *, session_per_minute: int = 20, ip_per_minute: int = 120) -> None:
        self.sessions = RateLimiter(session_per_minute)
        self.ips = RateLimiter(ip_per_minute)

    def check_ip(self, ip: str) -> Refusal | None:
        """Spend one token of ``ip``; a 429 refusal when its bucket is empty."""
        return _refusal(self.ips.take(f"ip:{ip}"))

    def check_session(self, sid: str) -> Refusal | None:
        """Spend one token of session ``sid``; a 429 refusal when its bucket is empty."""
        return _refusal(self.sessions.take(f"sid:{sid}"))


def _refusal(wait: float) -> Refusal | None:
    if not wait:
        return None
    seconds = max(1, math.ceil(wait))
    return Refusal(429, f"too many messages: please wait {seconds} s and try again", seconds)


def cross_origin(
    handler: Callable[[Request], Awaitable[Response]],
    origins: OriginPolicy,
    *,
    allow_headers: str = "Content-Type",
    name: str = "web",
) -> Callable[[Request], Awaitable[Response]]:
    """One browser-facing route: the Origin check, CORS headers and preflight, and
    refusals (``HttpError``) rendered as JSON here, so that they carry the CORS headers
    too: without them the page could not read why it was refused."""

    async def endpoint(request: Request) -> Response:
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        if not origins.allows(origin, own=own):
            logger.info("%s: refused a request from origin %.100s", name, origin)
            return error_response(HttpError(403, "this website is not allowed to use the chat"))
        if request.method == "OPTIONS":
            response: Response = Response(status_code=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = allow_headers
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            try:
                response = await handler(request)
            except HttpError as exc:
                response = error_response(exc)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = normalize_origin(origin)
            response.headers["Vary"] = "Origin"
        return response

    return endpoint
