"""The app's one HTTP error type, and the handlers that render every error as JSON."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

logger = logging.getLogger(__name__)


class HttpError(HTTPException):
    """A refusal with a status and a one-sentence message, rendered ``{"error": message, **extra}``.

    A Starlette ``HTTPException``, so an app without :func:`install_error_handlers`
    still answers with the right status (as plain text) instead of a 500.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(status, message, dict(headers) if headers else None)
        self.status = status
        self.message = message
        self.extra = extra


def error_response(exc: HttpError) -> Response:
    """The JSON answer for ``exc``: ``{"error": ..., **extra}`` with its status and headers."""
    return JSONResponse(
        {"error": exc.message, **exc.extra}, status_code=exc.status, headers=exc.headers
    )


def internal_error_response() -> Response:
    """The answer for an unexpected failure: no details leave the process."""
    return JSONResponse({"error": "internal error"}, status_code=500)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    return error_response(exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after answering, so the server logs it too; this line
    # names the endpoint, not the path: some paths (the Statuspage webhook) hold a secret.
    endpoint = getattr(request.scope.get("endpoint"), "__qualname__", "an unknown endpoint")
    logger.error("unhandled error in %s (%s)", endpoint, request.method, exc_info=exc)
    return internal_error_response()


EXCEPTION_HANDLERS: Mapping[Any, ExceptionHandler] = {
    HttpError: _http_error,
    Exception: _unexpected,
}


def install_error_handlers(app: Starlette) -> None:
    """Install the JSON error handlers on a Starlette ``app`` (before it serves requests)."""
    for key, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(key, handler)
