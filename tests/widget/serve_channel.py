"""Run the web channel with ``bot.cli.serving.run_uvicorn`` (as ``faro serve`` does) on a port.

``python -m tests.widget.serve_channel PORT``: prints "started", serves until
Ctrl-C, prints "exited". Used to check that open event streams end on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from bot.channels.web import SessionSigner, chat_routes
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub
from bot.cli.serving import run_uvicorn
from bot.db import Database
from tests.bot.helpers import FakeConversation


def main(port: int) -> None:
    hub = PushHub(WebHistory(Database.open("sqlite://").engine))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        yield
        await hub.stop()

    routes = chat_routes(conversation=FakeConversation(), signer=SessionSigner("t"), hub=hub)
    app = Starlette(routes=routes, lifespan=lifespan)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C; faro's CLI catches it
        run_uvicorn(
            app, host="127.0.0.1", port=port, on_started=lambda: print("started", flush=True)
        )
    print("exited", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
