"""``async with asyncorm_native.atomic()``: a native transaction pinned to the task.

The outermost block takes a pool connection, starts a transaction on it and
pins it to the task through a context variable: every native query of that
alias in the block (reads, writes, and the blocks nested in it) runs on that
connection, in that transaction. Tasks started inside the block (``gather``,
``create_task``, async signal receivers) inherit the pin; their queries are
*serialized* on the connection, never interleaved:

* each plan run, and each nested ``atomic()`` block, holds the connection
  for its whole length (a :class:`Scope`); a task that wants it while
  another holds it waits;
* the tasks a holder starts while it holds the connection (the receivers of a
  signal sent by ``asave()``, the tasks gathered inside a nested block) queue
  on that holder's own scope, so a holder never waits for its own children;
* the outermost block waits for the holders to finish before it commits;
  a task still using the pin after the block ended gets a clear error.

Concurrent tasks that each enter ``atomic()`` get their own connections and
transactions. The block semantics (savepoints, ``durable``, ``needs_rollback``,
``on_commit``) are Django's ``Atomic``, mirrored in :mod:`.atomic_blocks`.
When the caller's own Django connection is inside a transaction (sync code in
``transaction.atomic()`` that called ``async_to_sync``, as Django's
``TestCase`` does), the block nests into that transaction with a savepoint.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, transaction
from django.db.transaction import TransactionManagementError

from .atomic_blocks import (
    CallerConnection,
    NativeConnection,
    add_commit_hook,
    as_awaitable,
    run_hook,
    run_hooks,
)
from .plans import Unsupported
from .steps import Execute, Fetch, Row


class Scope:
    """One holding of a shared connection by a task; tasks it starts queue on ``lock``."""

    __slots__ = ("active", "lock", "parent")

    def __init__(self, parent: Scope | None) -> None:
        self.parent = parent
        self.lock = asyncio.Lock()
        self.active = True


_held: ContextVar[Mapping[Scope, Scope] | None] = ContextVar("asyncorm_native_held", default=None)


async def hold(root: Scope) -> Scope:
    """Take the connection of ``root`` for the running task (waits while another holds it)."""
    held = _held.get() or {}
    node = held.get(root)
    while node is not None and not node.active:
        node = node.parent
    if node is None:
        node = root
    await node.lock.acquire()
    scope = Scope(node)
    _held.set({**held, root: scope})
    return scope


def release(root: Scope, scope: Scope) -> None:
    """Give back what :func:`hold` took."""
    if not scope.active:
        return
    scope.active = False
    held = _held.get() or {}
    if held.get(root) is scope:
        _held.set({**held, root: scope.parent})
    assert scope.parent is not None
    scope.parent.lock.release()


class Pinned:
    """A connection in a transaction, pinned to the task tree of an ``atomic()`` block."""

    def __init__(self, alias: str, conn: Any, lease: Any, root: Scope, owned: bool) -> None:
        self.alias = alias
        self.conn = conn
        self.lease = lease
        self.root = root
        self.owned = owned  # a pool connection this block took (vs the caller's Django one)
        self.open = True

    def check_open(self) -> None:
        if not self.open:
            raise TransactionManagementError(
                f"asyncorm_native: this task inherited an atomic(using={self.alias!r}) block "
                "that has ended: await the tasks you start inside a block before it exits."
            )

    async def lease_for_plan(self) -> PinnedLease:
        self.check_open()
        scope = await hold(self.root)
        if not self.open:
            release(self.root, scope)
            self.check_open()
        return PinnedLease(self, scope)


class PinnedLease:
    """The lease a plan run gets on a pinned connection: it holds the connection, not owns it.

    Streams are fetched whole and served from memory, so that no cursor stays
    open on a connection other holders use after this one.
    """

    __slots__ = ("_pinned", "_rows", "_scope")

    def __init__(self, pinned: Pinned, scope: Scope) -> None:
        self._pinned = pinned
        self._scope = scope
        self._rows: list[Row] | None = None

    @property
    def transaction(self) -> Any:
        return self._pinned.conn

    async def execute(self, step: Execute) -> Any:
        pinned = self._pinned
        pinned.check_open()
        pinned.conn.validate_no_broken_transaction()
        if step.fetch is Fetch.STREAM:
            whole = Execute(step.sql, step.params, Fetch.ALL, using=step.using)
            self._rows = list(await pinned.lease.execute(whole))
            return None
        return await pinned.lease.execute(step)

    async def fetchmany(self, size: int) -> list[Row]:
        rows = self._rows or []
        chunk, self._rows = rows[:size], rows[size:]
        return chunk

    async def close_stream(self) -> None:
        self._rows = None

    async def release(self) -> None:
        self._rows = None
        release(self._pinned.root, self._scope)


_pinned: ContextVar[Mapping[str, Pinned] | None] = ContextVar(
    "asyncorm_native_pinned", default=None
)
_caller_roots: weakref.WeakKeyDictionary[Any, Scope] = weakref.WeakKeyDictionary()


def pinned_for(alias: str) -> Pinned | None:
    """The transaction pinned to this task for ``alias``, if any (ended ones included)."""
    pinned = _pinned.get()
    if pinned is None:
        return None
    return pinned.get(alias)


def caller_root(wrapper: Any) -> Scope:
    """The scope root of the caller's Django connection (its users are serialized too)."""
    root = _caller_roots.get(wrapper)
    if root is None:
        root = _caller_roots[wrapper] = Scope(None)
    return root


def _unsupported(alias: str, kind: str) -> NotSupportedError:
    return NotSupportedError(
        f"asyncorm_native.atomic(using={alias!r}) needs a native driver: {kind}. Use "
        "Django's transaction.atomic() in sync code (sync_to_async) for this database."
    )


class atomic:
    """Async twin of ``django.db.transaction.atomic(using, savepoint, durable)``.

    ``async with atomic():`` or ``@atomic()`` on a coroutine function. Nesting
    creates savepoints; an exception leaving a block rolls it back; ``durable``
    blocks refuse to nest; :func:`on_commit` callbacks run after the outermost
    block commits.
    """

    def __init__(
        self, using: str | None = None, savepoint: bool = True, durable: bool = False
    ) -> None:
        if callable(using):  # bare @atomic on a function
            raise TypeError("Use @asyncorm_native.atomic() (with parentheses) on a function.")
        self.using = using or DEFAULT_DB_ALIAS
        self.savepoint = savepoint
        self.durable = durable
        # Per task: one atomic object may be entered by several tasks at once.
        self._entries: dict[Any, list[tuple[Pinned, Scope | None, Any]]] = {}

    def _push(self, entry: tuple[Pinned, Scope | None, Any]) -> None:
        self._entries.setdefault(asyncio.current_task(), []).append(entry)

    def _pop(self) -> tuple[Pinned, Scope | None, Any]:
        task = asyncio.current_task()
        entries = self._entries[task]
        entry = entries.pop()
        if not entries:
            del self._entries[task]
        return entry

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(
                "asyncorm_native.atomic() decorates coroutine functions; use Django's "
                "transaction.atomic() for sync ones."
            )

        @functools.wraps(func)
        async def inner(*args: Any, **kwargs: Any) -> Any:
            async with atomic(self.using, self.savepoint, self.durable):
                return await func(*args, **kwargs)

        return inner

    async def __aenter__(self) -> atomic:
        from . import pools, router

        alias = self.using
        try:
            pools.check_supported(alias)
        except Unsupported as exc:
            raise _unsupported(alias, exc.kind) from None
        current = pinned_for(alias)
        if current is not None and current.open:
            scope = await hold(current.root)
            try:
                current.check_open()
                await current.conn.enter(self.savepoint, self.durable)
            except BaseException:
                release(current.root, scope)
                raise
            self._push((current, scope, None))
            return self
        wrapper = router.caller_transaction(alias)
        if wrapper is not None:
            from .drivers.django_sync import DjangoConnectionLease

            lease: Any = DjangoConnectionLease(wrapper, pinned=True)
            conn = CallerConnection(wrapper, lease)
            pinned = Pinned(alias, conn, lease, caller_root(wrapper), False)
        else:
            if not pools.prepared(alias):
                await pools.prepare(alias)
            lease = await (await pools.get_pool(alias)).acquire()
            pinned = Pinned(alias, NativeConnection(alias, lease), lease, Scope(None), True)
        try:
            scope = await hold(pinned.root)
            try:
                await pinned.conn.enter(self.savepoint, self.durable)
            finally:
                release(pinned.root, scope)
        except BaseException:
            await lease.release()
            raise
        token = _pinned.set({**(_pinned.get() or {}), alias: pinned})
        self._push((pinned, None, token))
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        pinned, scope, token = self._pop()
        error = exc if exc_type is not None else None
        if scope is not None:  # a nested block: it holds the connection
            try:
                await pinned.conn.exit(None, error)
            finally:
                release(pinned.root, scope)
            return
        try:
            scope = await hold(pinned.root)  # wait for the holders still running
            try:
                await pinned.conn.exit(None, error)
            finally:
                release(pinned.root, scope)
        finally:
            # Also when cancelled while waiting: releasing an open transaction rolls it back.
            pinned.open = False
            _pinned.reset(token)
            await pinned.lease.release()
        if pinned.owned and pinned.conn.committed_hooks:
            hooks, pinned.conn.committed_hooks = pinned.conn.committed_hooks, []
            await run_hooks(hooks)


_background: set[asyncio.Task[Any]] = set()


def on_commit(func: Callable[[], Any], using: str | None = None, robust: bool = False) -> None:
    """Run ``func`` (sync or async) once the enclosing ``atomic()`` block commits.

    Outside a transaction it is started at once (as a task), as Django's
    ``on_commit()`` runs it at once. Sync callbacks run through
    ``sync_to_async``, so they may use the sync ORM. In the caller's own Django
    transaction (``TestCase``), the callback is queued there.
    """
    from . import router

    if not callable(func):
        raise TypeError("on_commit()'s callback must be a callable.")
    alias = using or DEFAULT_DB_ALIAS
    pinned = pinned_for(alias)
    conn: Any = None
    if pinned is not None and pinned.open:
        conn = pinned.conn
    else:
        transaction.get_connection(alias)  # Django's error for an unknown alias
        wrapper = router.caller_transaction(alias)
        if wrapper is not None:
            conn = CallerConnection(wrapper, None)
    hook = func
    if isinstance(conn, CallerConnection) and inspect.iscoroutinefunction(func):
        from asgiref.sync import async_to_sync

        hook = functools.partial(async_to_sync(func))  # Django runs it from sync code
    if conn is None or not add_commit_hook(conn, hook, robust):
        _run_now(func, robust)


def _run_now(func: Callable[[], Any], robust: bool) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "asyncorm_native.on_commit() runs callbacks on the event loop; in sync code "
            "use django.db.transaction.on_commit()."
        ) from None
    task = loop.create_task(run_hook(as_awaitable(func), robust))
    _background.add(task)
    task.add_done_callback(_background.discard)
