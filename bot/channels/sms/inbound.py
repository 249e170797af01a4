"""Replies Twilio posts to the app (``POST /sms/twilio``): STOP, BAJA and the like unsubscribe.

Every request must carry ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with
the auth token, of the URL Twilio called followed by each form parameter's
name and value in name order (Twilio's "webhook security"). Anything else is
a 403 and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.contact.addresses import AddressError, normalize_phone
from bot.channels.contact.service import ContactService
from bot.http import HttpError, read_body

logger = logging.getLogger(__name__)

INBOUND_PATH = "/sms/twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
# Words that stop updates (Twilio's own opt-out words, and Spanish ones).
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "BAJA", "PARAR", "CANCELAR", "ALTO"}
)
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio sends for a form POST of ``params`` to ``url``."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_stop(body: str) -> bool:
    """True when an SMS reply asks to stop (``STOP``, ``baja``, ``Stop.``)."""
    words = body.strip().strip(".!¡").split()
    return len(words) == 1 and words[0].upper() in STOP_WORDS


def inbound_route(*, contacts: ContactService, auth_token: str, public_url: str) -> Route:
    """The route Twilio's messaging webhook points at (``{public_url}/sms/twilio``)."""
    url = public_url.rstrip("/") + INBOUND_PATH

    async def inbound(request: Request) -> Response:
        raw = await read_body(request, max_bytes=16_384)
        try:
            params = dict(
                parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            )
        except UnicodeDecodeError:
            raise HttpError(400, "the body is not form-encoded UTF-8") from None
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given, twilio_signature(auth_token, url, params)):
            raise HttpError(403, "missing or wrong X-Twilio-Signature")
        if is_stop(params.get("Body", "")):
            try:
                number = normalize_phone(params.get("From", ""))
            except AddressError:
                logger.info("SMS STOP from a number that is not a mobile number; ignored")
            else:
                contacts.unsubscribe("sms", number, how=f"SMS reply {params['Body'].strip()[:20]}")
        return Response(_EMPTY_TWIML, media_type="application/xml")

    return Route(INBOUND_PATH, inbound, methods=["POST"])
