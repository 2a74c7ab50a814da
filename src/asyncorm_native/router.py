"""Where a native query runs: the task's atomic() block, the caller's Django transaction, or a pool.

Stock a-methods run in the thread ``sync_to_async`` picks. When that thread is
parked in ``async_to_sync`` with its Django connection inside ``atomic()``
(or with autocommit off), uncommitted rows live only in that transaction, so
the native query must run there too (see ``drivers.django_sync.DjangoConnectionLease``).
Otherwise it takes a pool connection. Connections are tracked as Django opens
them (``connection_created``) to find the parked thread's one.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from asgiref.sync import AsyncToSync
from django.db import connections
from django.db.backends.signals import connection_created

from . import pools, reporting, transactions
from .drivers.base import AsyncLease
from .drivers.django_sync import DjangoConnectionLease

_opened: weakref.WeakSet[Any] = weakref.WeakSet()


def _track(sender: Any, connection: Any, **kwargs: Any) -> None:
    _opened.add(connection)


def start_tracking() -> None:
    """Track Django connections from now on (and the ones already open in this thread)."""
    connection_created.connect(_track, dispatch_uid="asyncorm_native.router")
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _opened.add(wrapper)


def stop_tracking() -> None:
    connection_created.disconnect(dispatch_uid="asyncorm_native.router")
    _opened.clear()


def _parked_thread_ident() -> int | None:
    """The thread stock ``sync_to_async`` would use when it is parked in ``async_to_sync``."""
    executor = getattr(AsyncToSync.executors, "current", None)
    if executor is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        executor = AsyncToSync.loop_thread_executors.get(loop)
    if executor is None:
        return None
    return executor._work_thread.ident


def caller_transaction(alias: str) -> Any | None:
    """The Django connection (wrapper) of ``alias`` holding the caller's transaction, if any."""
    candidates = [
        wrapper
        for wrapper in list(_opened)
        if wrapper.alias == alias
        and wrapper.connection is not None
        and (wrapper.in_atomic_block or not wrapper.autocommit)
    ]
    if not candidates:  # the common case: no connection of this alias is in a transaction
        return None
    threads = (threading.get_ident(), _parked_thread_ident())
    for wrapper in candidates:
        if wrapper._thread_ident in threads:
            return wrapper
    return None


async def acquire(alias: str) -> AsyncLease:
    """A lease for ``alias``: the task's ``atomic()`` block, the caller's transaction, or the pool.

    Leases on shared connections (the first two) hold the connection for the
    plan run: concurrent tasks queue for it (``transactions.hold``).
    """
    pools.check_supported(alias)
    pinned = transactions.pinned_for(alias)
    if pinned is not None:
        reporting.session("atomic block")
        return await pinned.lease_for_plan()
    wrapper = caller_transaction(alias)
    if wrapper is not None:
        reporting.session("caller transaction")
        root = transactions.caller_root(wrapper)
        scope = await transactions.hold(root)
        return DjangoConnectionLease(
            wrapper, pinned=True, on_release=lambda: transactions.release(root, scope)
        )
    pool = await pools.get_pool(alias)
    lease = await pool.acquire()
    reporting.session("pool")
    return lease
