"""WebSocket rules on top of strawberry's protocol handlers: the legacy graphql-ws protocol
gets the same connection_init deadline (4408) as graphql-transport-ws."""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """graphql-ws, with a deadline for connection_init (strawberry's has none)."""

    init_timeout = timedelta(seconds=5)

    async def handle(self) -> None:
        deadline = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.init_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
