"""``AsyncORMGuardMiddleware``: the guard for a Django project, one line in ``MIDDLEWARE``.

Put it first, so it sees the whole request. Sync- and async-capable: under ASGI it runs as
a coroutine in the request's task; under WSGI it still counts hops and queries (a sync
request has no event loop, so it cannot break the async rules).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

from runtime_guard import attribution, scope
from runtime_guard.install import install
from runtime_guard.settings import GuardSettings, django_debug, from_django

HEADER = "X-AsyncORM-Guard"
logger = logging.getLogger("runtime_guard")


def request_label(method: str | None, path: str, query: str = "") -> str:
    """``GET /path/?query``: how records name a request."""
    return f"{method or 'GET'} {path}?{query}" if query else f"{method or 'GET'} {path}"


class AsyncORMGuardMiddleware:
    """Observe each request: sync ORM on the loop, thread hops, queries, loop blocking, N+1."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.settings: GuardSettings = from_django()
        debug = django_debug()
        if not debug and not self.settings.force:
            logger.warning(
                "runtime_guard: AsyncORMGuardMiddleware is off because DEBUG is False"
                " (set ASYNCORM_GUARD['force'] = True to run it anyway)"
            )
            raise MiddlewareNotUsed("runtime_guard is off when DEBUG is False")
        self.header = self.settings.header_enabled(debug)
        install(self.settings)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def _open(self, request: HttpRequest) -> scope.GuardScope | None:
        """A new request scope, or None when an outer guard (the ASGI wrapper) has one."""
        outer = scope._current.get() or scope._fallback  # scope.current(), inlined: per request
        if outer is not None and outer.kind == "request" and not outer.finished:
            return None
        label = request_label(request.method, request.path, request.META.get("QUERY_STRING", ""))
        return scope.GuardScope(self.settings, label, "request", parent=outer)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        guarded = self._open(request)
        if guarded is None:
            return self.get_response(request)
        token = scope.enter(guarded)
        try:
            response = self.get_response(request)
            if self.header:
                response[HEADER] = guarded.header()
        finally:
            scope.leave(guarded, token)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        guarded = self._open(request)
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        if guarded is None:
            return await get_response(request)
        token = scope.enter(guarded)
        try:
            response = await get_response(request)
            if self.header:
                response[HEADER] = guarded.header()
        finally:
            scope.leave(guarded, token)
        return response


attribution.boundaries.update(
    {AsyncORMGuardMiddleware.__call__.__code__, AsyncORMGuardMiddleware.__acall__.__code__}
)
