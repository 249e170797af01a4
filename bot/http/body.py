"""Reading request bodies: a size cap applied while streaming, and strict JSON.

Every refusal is an :class:`~bot.http.errors.HttpError` (413 or 400), so routes
only call :func:`read_json` (or :func:`read_body`) and let it propagate.
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any, overload

from starlette.requests import ClientDisconnect, Request

from bot.http.errors import HttpError

MAX_DEPTH = 64  # far more than any payload we take; far less than the parser's recursion limit

_ESCAPES = re.compile(rb"\\.", re.DOTALL)
_STRINGS = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # as signed bytes: +1, +1, -1, -1


async def read_body(request: Request, *, max_bytes: int) -> bytes:
    """The raw body: 413 past ``max_bytes`` (found before reading it all), 400 for a bad length."""
    declared = _content_length(request)
    if declared is not None and declared > max_bytes:
        raise HttpError(413, f"body too large (at most {max_bytes} bytes)")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_bytes:
                raise HttpError(413, f"body too large (at most {max_bytes} bytes)")
    except ClientDisconnect:
        raise HttpError(400, "the client went away before sending the whole body") from None
    if declared is not None and len(body) != declared:
        raise HttpError(400, "body does not match Content-Length")
    return bytes(body)


@overload
async def read_json(
    request: Request,
    *,
    max_bytes: int,
    required: bool = True,
    kind: type[dict[Any, Any]] = ...,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]: ...


@overload
async def read_json(
    request: Request,
    *,
    max_bytes: int,
    required: bool = True,
    kind: type[list[Any]],
    max_depth: int = MAX_DEPTH,
) -> list[Any]: ...


async def read_json(
    request: Request,
    *,
    max_bytes: int,
    required: bool = True,
    kind: type[dict[Any, Any]] | type[list[Any]] = dict,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any] | list[Any]:
    """The body as a JSON ``kind`` (object or array); empty is ``kind()`` unless ``required``."""
    raw = await read_body(request, max_bytes=max_bytes)
    if not raw and not required:
        return kind()
    return parse_json(raw, kind=kind, max_depth=max_depth)


@overload
def parse_json(
    raw: bytes, *, kind: type[dict[Any, Any]] = ..., max_depth: int = MAX_DEPTH
) -> dict[str, Any]: ...


@overload
def parse_json(raw: bytes, *, kind: type[list[Any]], max_depth: int = MAX_DEPTH) -> list[Any]: ...


def parse_json(
    raw: bytes,
    *,
    kind: type[dict[Any, Any]] | type[list[Any]] = dict,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any] | list[Any]:
    """Strict UTF-8 JSON of type ``kind``, nested at most ``max_depth`` deep; else a 400."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "body must be JSON") from None
    opened = raw.count(b"[") + raw.count(b"{")  # fewer than the cap: no need to scan
    if opened > max_depth and nesting_depth(raw) > max_depth:
        raise HttpError(400, f"body is nested too deeply (more than {max_depth} levels)")
    try:
        data = json.loads(text)
    except ValueError:  # JSONDecodeError, and ints past Python's digit limit
        raise HttpError(400, "body must be JSON") from None
    except RecursionError:  # the scan above should have caught it; never a 500
        raise HttpError(400, f"body is nested too deeply (more than {max_depth} levels)") from None
    if not isinstance(data, kind):
        raise HttpError(400, f"body must be a JSON {'object' if kind is dict else 'array'}")
    return data


def nesting_depth(raw: bytes) -> int:
    """How deep ``[`` and ``{`` nest in the JSON text ``raw``, counted without parsing it.

    Escapes, then strings, are cut out and the brackets left are summed as
    +1/-1, all in C (regular expressions, ``translate``, ``accumulate``): cheap
    on megabytes, and no recursion. On invalid JSON the count may be off;
    the parser refuses such a body anyway.
    """
    structure = _STRINGS.sub(b"", _ESCAPES.sub(b"", raw)).translate(_STEPS, _NOT_BRACKETS)
    return max(accumulate(array("b", structure)), default=0)


def _content_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit() or len(declared) > 18:
        raise HttpError(400, "invalid Content-Length")
    return int(declared)
