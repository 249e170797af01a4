"""The staff JSON API for handoffs: ``/api/staff/...``, bearer token, OpenAPI schema.

The inbox page, the CLI and integrations (Chatwoot, Zendesk, webhooks) use
these routes or the same :class:`~bot.handoff.service.HandoffService` behind them.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.handoff.openapi import openapi_schema
from bot.handoff.service import (
    HandoffConflict,
    HandoffError,
    HandoffNotFound,
    HandoffService,
    InvalidReply,
)
from bot.handoff.store import Handoff, HandoffMessage
from bot.handoff.tables import ACTIVE, CLOSED, WAITING
from bot.handoff.touched import Touched
from bot.http import HttpError, read_json
from bot.privacy import BadSubject, PersonalData

logger = logging.getLogger(__name__)

PREFIX = "/api/staff"
MAX_BODY_BYTES = 64 * 1024
MAX_AGENT = 60
DEFAULT_AGENT = "admin"
STATES = (WAITING, ACTIVE, CLOSED)

Handler = Callable[[Request], Awaitable[Response]]


def handoff_json(handoff: Handoff, transcript: list[HandoffMessage]) -> dict[str, Any]:
    """A handoff as the staff API shows it (the contract's fields first)."""
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "lang": handoff.lang,
        "state": handoff.state,
        "opened_at": _iso(handoff),
        "claimed_by": handoff.claimed_by,
        "transcript": [m.to_json() for m in transcript],
        "claimed_at": handoff.claimed_at.isoformat().replace("+00:00", "Z")
        if handoff.claimed_at
        else None,
        "closed_at": handoff.closed_at.isoformat().replace("+00:00", "Z")
        if handoff.closed_at
        else None,
        "outcome": handoff.outcome,
    }


def agent_name(value: object) -> str:
    """The agent a request acts for: one trimmed line of at most 60 characters."""
    if value is None:
        return DEFAULT_AGENT
    if not isinstance(value, str):
        raise HttpError(400, "agent must be a string")
    name = " ".join(value.split())[:MAX_AGENT]
    return name or DEFAULT_AGENT


def staff_api_routes(
    *,
    service: HandoffService,
    token: str | None,
    touched: Touched | None = None,
    privacy: PersonalData | None = None,
) -> list[Route]:
    """The staff API; without a token every call is refused (401) and says what to set.

    With ``touched``, one handoff (``GET .../handoffs/{id}``) also shows the FAQ entries
    and incidents its conversation touched, as the extra field ``touched``. With
    ``privacy``, also ``/api/staff/privacy/export`` and ``/erase`` (audited as
    ``api:<agent>``).
    """
    expected = token.encode() if token else None

    def check(request: Request) -> None:
        if expected is None:
            raise HttpError(401, "the staff API is off: set FARO_ADMIN_TOKEN")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise HttpError(
                401,
                "missing or wrong token: send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="faro-staff"'},
            )

    def authed(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            check(request)
            try:
                return await handler(request)
            except HandoffNotFound as exc:
                raise HttpError(404, str(exc)) from None
            except HandoffConflict as exc:
                raise HttpError(409, str(exc)) from None
            except InvalidReply as exc:
                status = 413 if "too long" in str(exc) else 400
                raise HttpError(status, str(exc)) from None
            except HandoffError as exc:
                raise HttpError(400, str(exc)) from None
            except BadSubject as exc:
                raise HttpError(400, str(exc)) from None

        return endpoint

    def handoff_id(request: Request) -> int:
        raw = request.path_params["handoff_id"]
        if not raw.isdigit() or len(raw) > 12:
            raise HttpError(404, f"no handoff with id {raw[:20]}")
        return int(raw)

    async def body(request: Request) -> dict[str, Any]:
        return await read_json(request, max_bytes=MAX_BODY_BYTES, required=False)

    async def one(handoff: Handoff) -> dict[str, Any]:
        transcript = await asyncio.to_thread(service.store.transcript, handoff.id)
        return handoff_json(handoff, transcript)

    async def list_handoffs(request: Request) -> Response:
        state = request.query_params.get("state", WAITING)
        if state not in STATES:
            raise HttpError(400, "state must be one of waiting, active, closed")
        found = await asyncio.to_thread(service.in_state, state)
        return JSONResponse({"handoffs": [handoff_json(h, t) for h, t in found]})

    async def show(request: Request) -> Response:
        handoff = await asyncio.to_thread(service.get, handoff_id(request))
        transcript = await asyncio.to_thread(service.store.transcript, handoff.id)
        out = handoff_json(handoff, transcript)
        if touched is not None:
            out["touched"] = await asyncio.to_thread(touched.of, handoff, transcript)
        return JSONResponse(out)

    async def claim(request: Request) -> Response:
        hid, data = handoff_id(request), await body(request)
        handoff = await service.claim(hid, agent_name(data.get("agent")))
        return JSONResponse(await one(handoff))

    async def reply(request: Request) -> Response:
        hid = handoff_id(request)
        data = await read_json(request, max_bytes=MAX_BODY_BYTES)
        outcome = await service.reply(hid, agent_name(data.get("agent")), data.get("text"))
        message = outcome.message.to_json()
        if not outcome.delivered:
            error = f"not delivered: {outcome.message.error}"
            return JSONResponse({"error": error, "message": message}, status_code=502)
        return JSONResponse({"message": message})

    async def release(request: Request) -> Response:
        hid, data = handoff_id(request), await body(request)
        return JSONResponse(await one(await service.release(hid, agent_name(data.get("agent")))))

    async def close(request: Request) -> Response:
        hid, data = handoff_id(request), await body(request)
        return JSONResponse(await one(await service.close(hid, agent_name(data.get("agent")))))

    async def figures(request: Request) -> Response:
        f = await asyncio.to_thread(service.figures)
        return JSONResponse(
            {
                "waiting": f.waiting,
                "active": f.active,
                "longest_wait_s": f.longest_wait_s,
                "handled_today": f.handled_today,
                "agents_online": f.agents_online,
            }
        )

    async def schema(request: Request) -> Response:
        return JSONResponse(openapi_schema(privacy=privacy is not None))

    def subject_of(value: object) -> str:
        if not isinstance(value, str):
            raise HttpError(400, "subject must be a string: a conversation id, email or phone")
        return value

    async def export(request: Request) -> Response:
        assert privacy is not None
        subject = subject_of(request.query_params.get("subject"))
        actor = "api:" + agent_name(request.query_params.get("agent"))
        found = await asyncio.to_thread(privacy.find, subject)
        rows = await asyncio.to_thread(privacy.export, found, actor=actor)
        return JSONResponse(
            {
                "subject": found.given,
                "conversations": sorted(found.conversation_ids),
                "data": rows,
            }
        )

    async def erase(request: Request) -> Response:
        assert privacy is not None
        data = await read_json(request, max_bytes=MAX_BODY_BYTES)
        subject = subject_of(data.get("subject"))
        actor = "api:" + agent_name(data.get("agent"))
        found = await asyncio.to_thread(privacy.find, subject)
        counts = await asyncio.to_thread(privacy.erase, found, actor=actor)
        logger.info("staff API: %s erased one subject's data", actor)
        return JSONResponse(
            {
                "subject": found.given,
                "conversations": sorted(found.conversation_ids),
                "erased": counts,
                "total": sum(counts.values()),
            }
        )

    item = PREFIX + "/handoffs/{handoff_id}"
    extra = (
        [
            Route(PREFIX + "/privacy/export", authed(export), methods=["GET"]),
            Route(PREFIX + "/privacy/erase", authed(erase), methods=["POST"]),
        ]
        if privacy is not None
        else []
    )
    return [
        *extra,
        Route(PREFIX + "/openapi.json", schema, methods=["GET"]),
        Route(PREFIX + "/handoffs", authed(list_handoffs), methods=["GET"]),
        Route(PREFIX + "/figures", authed(figures), methods=["GET"]),
        Route(item, authed(show), methods=["GET"]),
        Route(item + "/claim", authed(claim), methods=["POST"]),
        Route(item + "/reply", authed(reply), methods=["POST"]),
        Route(item + "/release", authed(release), methods=["POST"]),
        Route(item + "/close", authed(close), methods=["POST"]),
    ]


def _iso(handoff: Handoff) -> str:
    return handoff.opened_at.isoformat().replace("+00:00", "Z")
