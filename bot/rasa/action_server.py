"""Rasa's action endpoint (``POST /webhook``), served in the app with rasa-sdk's executor.

Rasa sends the shared token from endpoints.yml as the ``token`` query
parameter; anything without it is refused, because the rasa-sdk protocol has
no authentication of its own.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable

from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import actions
from bot.core.ports import ActionServices
from bot.http import HttpError, read_json

logger = logging.getLogger(__name__)

MAX_ACTION_CALL_BYTES = 5 * 1024 * 1024


def action_route(*, services: ActionServices, token: str) -> Route:
    """A Starlette route that runs Faro's actions, built on ``services``, for ``token``."""
    return actions_route(registered=actions.build_actions(services), token=token)


def executor_for(registered: Iterable[Action]) -> ActionExecutor:
    """rasa-sdk's executor running the action instances ``registered`` (names unique)."""
    executor = ActionExecutor()
    for action in registered:
        name = action.name()
        # rasa-sdk silently replaces an action registered twice under one name.
        if not name or name in executor.actions:
            raise ValueError(f"action name {name!r} is empty or registered twice")
        executor.register_action(action)
    return executor


def actions_route(*, registered: Iterable[Action], token: str) -> Route:
    """A Starlette route that runs the action instances ``registered`` for ``token``."""
    executor = executor_for(registered)
    expected = token.encode()

    async def webhook(request: Request) -> Response:
        given = request.query_params.get("token", "").encode()
        if not hmac.compare_digest(given, expected):
            raise HttpError(403, "forbidden")
        action_call = await read_json(request, max_bytes=MAX_ACTION_CALL_BYTES)
        # endpoints.yml turns on selective domain, so Rasa sends no domain; Rasa
        # 3.6 also sends no digest and does not retry on 449. Faro's actions
        # don't read the domain: run them with an empty one.
        action_call.setdefault("domain", {})
        try:
            result = await executor.run(action_call)
        # rasa-sdk's protocol: these bodies carry the action's name next to the error
        except ActionExecutionRejection as exc:
            raise HttpError(400, exc.message, action_name=exc.action_name) from None
        except ActionNotFoundException as exc:
            logger.error("Rasa asked for an unknown action: %s", exc.action_name)
            raise HttpError(404, exc.message, action_name=exc.action_name) from None
        except ActionMissingDomainException as exc:
            raise HttpError(449, exc.message, action_name=exc.action_name) from None
        return JSONResponse(result.model_dump() if result else None)

    return Route("/webhook", webhook, methods=["POST"])
