"""Thread hops: every ``sync_to_async`` call (``database_sync_to_async`` and Django's own
a-methods included, they are all ``SyncToAsync``) during a guarded scope: count, time, the
user's frame that awaited it, and the queries it ran on its worker thread.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import SyncToAsync, markcoroutinefunction

from runtime_guard import attribution, reporting, scope
from runtime_guard.records import THREAD_HOP, Location, Record, RecordKind

_original_call = SyncToAsync.__call__
_scope_var = scope._current
current_hop: ContextVar[Hop | None] = ContextVar("runtime_guard_hop", default=None)


@dataclass
class Hop:
    """One ``sync_to_async`` call."""

    target: str  # the sync callable: "QuerySet.get", "author_name"
    location: Location | None  # the user's frame that awaited it
    queries: int = 0
    query_ms: float = 0.0
    duration_ms: float = 0.0
    sql: list[str] = field(default_factory=list)


def _target_name(func: Any) -> str:
    func = getattr(func, "__func__", func)
    while hasattr(func, "func") and not hasattr(func, "__qualname__"):  # functools.partial
        func = func.func
    return getattr(func, "__qualname__", None) or type(func).__qualname__


def _guarded_call(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
    """``SyncToAsync.__call__``: the original coroutine, measured when a scope is active.

    A plain function returning the coroutine, so an unguarded call costs no extra frame.
    """
    guarded = _scope_var.get() or scope._fallback  # scope.current(), inlined: every hop
    if guarded is None:
        return _original_call(self, *args, **kwargs)
    hop = Hop(_target_name(self.func), attribution.user_location(sys._getframe(1)))
    return _observed_call(self, guarded, hop, args, kwargs)


markcoroutinefunction(_guarded_call)


async def _observed_call(
    self: SyncToAsync, guarded: scope.GuardScope, hop: Hop, args: Any, kwargs: Any
) -> Any:
    token = current_hop.set(hop)
    start = time.perf_counter()
    try:
        return await _original_call(self, *args, **kwargs)
    finally:
        hop.duration_ms = (time.perf_counter() - start) * 1000
        current_hop.reset(token)
        guarded.add_hop(hop.duration_ms)
        if reporting.logger.isEnabledFor(logging.DEBUG):
            reporting.log(
                Record(
                    kind=RecordKind.HOP,
                    code=THREAD_HOP,
                    message=f"sync_to_async({hop.target}) from {hop.location or 'Django'}:"
                    f" {hop.duration_ms:.2f} ms, {hop.queries} queries",
                    operation=f"sync_to_async({hop.target})",
                    location=hop.location,
                    request_id=guarded.id if guarded.kind == "request" else None,
                    request_path=guarded.label if guarded.kind == "request" else None,
                    duration_ms=hop.duration_ms,
                    queries=hop.queries,
                    data={"query_ms": round(hop.query_ms, 3), "sql_shapes": hop.sql},
                ),
                logging.DEBUG,
            )


def install() -> None:
    """Measure every ``SyncToAsync`` call (idempotent)."""
    SyncToAsync.__call__ = _guarded_call  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore asgiref's ``SyncToAsync.__call__``."""
    SyncToAsync.__call__ = _original_call  # type: ignore[method-assign]
