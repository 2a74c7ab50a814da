"""``guard(application)``: the guard around any ASGI application.

For apps that are not (only) Django's handler: Channels routers, Starlette mounting Django,
custom ASGI stacks. Each HTTP or WebSocket connection gets a guard scope; the Django
middleware, if also installed, reuses it. With Django configured and ``DEBUG = False`` the
wrapper steps aside (returns the application itself) unless ``force`` is set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from runtime_guard import attribution, scope
from runtime_guard.install import install
from runtime_guard.middleware import HEADER, request_label
from runtime_guard.settings import GuardSettings, django_debug, from_django

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("runtime_guard")


class GuardedASGIApp:
    """An ASGI application observed by the guard."""

    def __init__(self, application: ASGIApp, settings: GuardSettings, header: bool) -> None:
        self.application = application
        self.settings = settings
        self.header = header
        install(settings)

    async def __call__(self, asgi_scope: Scope, receive: Receive, send: Send) -> None:
        if asgi_scope["type"] not in ("http", "websocket"):
            await self.application(asgi_scope, receive, send)
            return
        outer = scope.current()
        if outer is not None and outer.kind == "request" and not outer.finished:
            await self.application(asgi_scope, receive, send)  # an outer guard has this request
            return
        label = request_label(
            asgi_scope.get("method", "WEBSOCKET"),
            asgi_scope.get("path", ""),
            asgi_scope.get("query_string", b"").decode("latin-1"),
        )
        guarded = scope.GuardScope(self.settings, label, "request", parent=outer)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((HEADER.lower().encode(), guarded.header().encode()))
                message = {**message, "headers": headers}
            await send(message)

        token = scope.enter(guarded)
        try:
            await self.application(asgi_scope, receive, send_with_header if self.header else send)
        finally:
            scope.leave(guarded, token)


attribution.boundaries.add(GuardedASGIApp.__call__.__code__)


def guard(application: ASGIApp, **options: Any) -> ASGIApp:
    """Wrap ``application``; ``options`` override ``settings.ASYNCORM_GUARD`` keys."""
    settings = from_django(**options)
    debug = django_debug()
    if not debug and not settings.force:
        logger.warning(
            "runtime_guard: guard() is off because DEBUG is False"
            " (pass force=True or set ASYNCORM_GUARD['force'] = True to run it anyway)"
        )
        return application
    return GuardedASGIApp(application, settings, settings.header_enabled(debug))
