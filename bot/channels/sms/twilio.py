"""Twilio's Messages REST API: ``POST /2010-04-01/Accounts/{sid}/Messages.json``.

Form-encoded ``To``, ``From``, ``Body``; HTTP basic auth with the account SID
and auth token. Errors come back as JSON ``{"code", "message", "more_info",
"status"}``; a 429 (code 20429) asks to slow down.
"""

from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)

UNSUBSCRIBED = 21610  # the recipient replied STOP to this sender
NOT_A_NUMBER = (21211, 21614, 21612)  # invalid To, not a mobile, cannot be reached
TOO_MANY_REQUESTS = 20429


class TwilioError(Exception):
    """Twilio refused a request (``status`` HTTP status, ``code`` Twilio's error code)."""

    def __init__(self, status: int, code: int | None, message: str, retry_after: float = 0.0):
        super().__init__(f"Twilio {status} ({code}): {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class TwilioClient:
    """Sends SMS through one Twilio account."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_url: str = "https://api.twilio.com",
        timeout_s: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.sender = sender
        self._url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._client = httpx.AsyncClient(
            auth=(account_sid, auth_token), timeout=timeout_s, transport=transport
        )
        # httpx logs request URLs at INFO: they name the account, never the token; quiet anyway
        logging.getLogger("httpx").setLevel(logging.WARNING)

    async def send(self, to: str, body: str) -> str:
        """Queue one SMS; returns its message SID; raises :class:`TwilioError` or httpx errors."""
        response = await self._client.post(
            self._url, data={"To": to, "From": self.sender, "Body": body}
        )
        if response.status_code in (200, 201):
            return str(response.json().get("sid", ""))
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        code = payload.get("code") if isinstance(payload, dict) else None
        message = str(payload.get("message", "")) if isinstance(payload, dict) else ""
        retry = response.headers.get("Retry-After", "")
        raise TwilioError(
            response.status_code,
            int(code) if isinstance(code, int) else None,
            message or response.reason_phrase,
            float(retry) if retry.replace(".", "", 1).isdigit() else 0.0,
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
