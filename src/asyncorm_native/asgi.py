"""ASGI lifespan support: close the native pools when the server shuts down.

Django's ``ASGIHandler`` rejects ``lifespan`` scopes, so wrap it:

```python
from django.core.asgi import get_asgi_application
from asyncorm_native.asgi import with_lifespan

application = with_lifespan(get_asgi_application())
```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .pools import close_pools

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def with_lifespan(app: ASGIApp) -> ASGIApp:
    """``app`` plus lifespan handling: startup completes at once, shutdown closes the pools."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await close_pools()
                except Exception as exc:  # report, as the ASGI spec asks
                    await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    return application
