"""The app's HTTP edge: one body reader, one error type, one set of error handlers.

Routes read bodies with :func:`read_json` / :func:`read_body` and refuse with
:class:`HttpError`; :func:`install_error_handlers` (or ``EXCEPTION_HANDLERS``
passed to ``Starlette(exception_handlers=...)``) renders every refusal as
``{"error": "<one sentence>", ...}`` and any other failure as a bare 500.
"""

from bot.http.body import MAX_DEPTH, nesting_depth, parse_json, read_body, read_json
from bot.http.errors import (
    EXCEPTION_HANDLERS,
    HttpError,
    error_response,
    install_error_handlers,
    internal_error_response,
)

__all__ = [
    "EXCEPTION_HANDLERS",
    "MAX_DEPTH",
    "HttpError",
    "error_response",
    "install_error_handlers",
    "internal_error_response",
    "nesting_depth",
    "parse_json",
    "read_body",
    "read_json",
]
