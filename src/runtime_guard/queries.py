"""Queries on every thread: an ``execute_wrapper`` on each thread's connections.

Django connections are per thread, so one wrapper installed in the request's thread would
miss the queries of ``sync_to_async`` workers. The guard appends its wrapper to
``connection.execute_wrappers`` of every connection: those of the installing thread, those
any thread opens afterwards (the ``connection_created`` signal), and those a worker thread
already holds, checked as each ``sync_to_async`` call starts on it. The wrapper counts the
query against the scope of the context it runs in (asgiref copies the request's context
into the worker) and feeds the N+1 detector.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import SyncToAsync
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from runtime_guard import attribution, n_plus_one, operations, scope
from runtime_guard.hops import current_hop
from runtime_guard.records import N_PLUS_ONE, Record, RecordKind

_MAX_SQL_PER_HOP = 20
_original_thread_handler = SyncToAsync.thread_handler


def observe_query(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """The execute wrapper: time the query and count it against the current scope."""
    guarded = scope.current()
    if guarded is None:
        return execute(sql, params, many, context)
    start = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        duration_ms = (time.perf_counter() - start) * 1000
        shape = n_plus_one.shape(sql)
        seen = guarded.add_query(duration_ms, shape)
        hop = current_hop.get()
        if hop is not None:
            hop.queries += 1
            hop.query_ms += duration_ms
            if shape is not None and len(hop.sql) < _MAX_SQL_PER_HOP:
                hop.sql.append(shape)
        if shape is not None and seen == guarded.settings.n_plus_one + 1:
            _report_n_plus_one(guarded, shape, sys._getframe(1), hop)


def _report_n_plus_one(guarded: scope.GuardScope, shape: str, frame: Any, hop: Any) -> None:
    """Record an N+1 at the query that crossed the threshold (logged when the scope ends)."""
    frames = attribution.stack(frame)
    user_index = attribution.first_user_index(frames)
    op = operations.identify(frames, user_index)[0] if frames else None
    if user_index is not None:
        loc = attribution.location_of(frames[user_index])
    else:  # a Django a-method's worker thread: the user's frame is the one that awaited it
        loc = hop.location if hop is not None else None
    fix = n_plus_one.suggestion(op)
    limit = guarded.settings.n_plus_one
    where = f" [request {guarded.label}]" if guarded.kind == "request" else ""
    template = (
        (
            f"{N_PLUS_ONE} {loc or '?'}: the same query ran {{count}} times in one request"
            f" (more than {limit}): use {fix}{where}"
        )
        .replace("{", "{{")
        .replace("}", "}}")
        .replace("{{count}}", "{count}")
    )
    record = Record(
        kind=RecordKind.N_PLUS_ONE,
        code=N_PLUS_ONE,
        message=template,
        operation=op.name if op is not None else "query",
        replacement=fix,
        location=loc,
        request_id=guarded.id if guarded.kind == "request" else None,
        request_path=guarded.label if guarded.kind == "request" else None,
        sql=shape,
        thread=threading.current_thread().name,
        mode=guarded.settings.mode,
        data={"_template": template},
    )
    guarded.add_n_plus_one(shape, record)


def _on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if observe_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(observe_query)


def observe_thread_connections() -> None:
    """Make sure every connection this thread holds is observed."""
    for connection in connections.all(initialized_only=True):
        if observe_query not in connection.execute_wrappers:
            connection.execute_wrappers.append(observe_query)


def _thread_handler(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
    """``SyncToAsync.thread_handler`` (runs on the worker thread), observing its connections."""
    if scope._active or scope._fallback is not None:  # some scope is active
        observe_thread_connections()
    return _original_thread_handler(self, *args, **kwargs)


# A worker thread's stack beyond asgiref's handler is whatever the thread did before it
# picked up this call (e.g. a sync caller blocked in async_to_sync): not this call's caller.
attribution.boundaries.update({_thread_handler.__code__, _original_thread_handler.__code__})


def install() -> None:
    """Observe the connections of this thread now and of every thread from now on."""
    connection_created.connect(_on_connection_created, dispatch_uid="runtime_guard.queries")
    SyncToAsync.thread_handler = _thread_handler  # type: ignore[method-assign]
    observe_thread_connections()


def uninstall() -> None:
    """Stop observing new connections and this thread's connections."""
    connection_created.disconnect(dispatch_uid="runtime_guard.queries")
    SyncToAsync.thread_handler = _original_thread_handler  # type: ignore[method-assign]
    for connection in connections.all(initialized_only=True):
        while observe_query in connection.execute_wrappers:
            connection.execute_wrappers.remove(observe_query)
