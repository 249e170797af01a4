"""Reading request bodies with a size cap, without buffering more than the cap."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The request body is over the cap."""


class BadContentLength(Exception):
    """The Content-Length header is not a number."""


async def read_limited(request: Request, limit: int) -> bytes:
    """Return the body, refusing (before reading it all) one larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadContentLength(declared)
        if int(declared) > limit:
            raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)
