"""Django's ``Atomic.__enter__``/``__exit__``, as coroutines over any transactional connection.

Mirrors ``django.db.transaction.Atomic`` of Django 5.2 line for line. Django
keeps an atomic block's state on the connection (``in_atomic_block``,
``savepoint_ids``, ``needs_rollback``, ``atomic_blocks``, ``run_on_commit``...),
so the mirror works on anything with those attributes and async versions of
the connection methods it calls. Three connections provide them:

* :class:`NativeConnection`: a pool connection (psycopg / aiosqlite); its
  transaction SQL is the one Django's backend sends (``BEGIN`` as Django's
  SQLite backend starts it, savepoint SQL from ``connection.ops``).
* :class:`CallerConnection`: the caller's Django connection inside its
  transaction (Django's ``TestCase``), driven from the event loop: Django's own
  state on the ``DatabaseWrapper`` is read and updated, savepoints only.
* :class:`DjangoAtomics`: the sync driver on Django's own connection, where
  Django's real ``transaction.Atomic`` runs (the differential proof).
"""

from __future__ import annotations

import _thread
import inspect
import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, Error, connections, transaction
from django.db.transaction import TransactionManagementError

from .steps import Execute, Fetch

logger = logging.getLogger("asyncorm_native")


class Block:
    """What Django keeps in ``connection.atomic_blocks`` for one open block."""

    __slots__ = ("_from_testcase", "durable")

    def __init__(self, durable: bool) -> None:
        self.durable = durable
        self._from_testcase = False


async def enter(conn: Any, savepoint: bool, durable: bool) -> Block:
    """Mirrors ``Atomic.__enter__()``."""
    if durable and conn.atomic_blocks and not conn.atomic_blocks[-1]._from_testcase:
        raise RuntimeError("A durable atomic block cannot be nested within another atomic block.")
    if not conn.in_atomic_block:
        conn.commit_on_exit = True
        conn.needs_rollback = False
        if not conn.get_autocommit():
            conn.in_atomic_block = True
            conn.commit_on_exit = False

    if conn.in_atomic_block:
        if savepoint and not conn.needs_rollback:
            sid = await conn.savepoint()
            conn.savepoint_ids.append(sid)
        else:
            conn.savepoint_ids.append(None)
    else:
        await conn.set_autocommit(False)
        conn.in_atomic_block = True

    block = Block(durable)
    if conn.in_atomic_block:
        conn.atomic_blocks.append(block)
    return block


async def leave(conn: Any, error: BaseException | None) -> None:
    """Mirrors ``Atomic.__exit__()`` (``error`` is the exception leaving the block, or None)."""
    if conn.in_atomic_block:
        conn.atomic_blocks.pop()

    sid = None
    if conn.savepoint_ids:
        sid = conn.savepoint_ids.pop()
    else:
        conn.in_atomic_block = False

    try:
        if conn.closed_in_transaction:
            pass
        elif error is None and not conn.needs_rollback:
            if conn.in_atomic_block:
                if sid is not None:
                    try:
                        await conn.savepoint_commit(sid)
                    except DatabaseError:
                        try:
                            await conn.savepoint_rollback(sid)
                            await conn.savepoint_commit(sid)
                        except Error:
                            conn.needs_rollback = True
                        raise
            else:
                try:
                    await conn.commit()
                except DatabaseError:
                    try:
                        await conn.rollback()
                    except Error:
                        await conn.close()
                    raise
        else:
            conn.needs_rollback = False
            if conn.in_atomic_block:
                if sid is None:
                    conn.needs_rollback = True
                else:
                    try:
                        await conn.savepoint_rollback(sid)
                        await conn.savepoint_commit(sid)
                    except Error:
                        conn.needs_rollback = True
            else:
                try:
                    await conn.rollback()
                except Error:
                    await conn.close()
    finally:
        if not conn.in_atomic_block:
            if conn.closed_in_transaction:
                conn.discard()
            else:
                await conn.set_autocommit(True)
        elif not conn.savepoint_ids and not conn.commit_on_exit:
            if conn.closed_in_transaction:
                conn.discard()
            else:
                conn.in_atomic_block = False


def add_commit_hook(conn: Any, func: Callable[[], Any], robust: bool) -> bool:
    """Mirrors the first half of ``BaseDatabaseWrapper.on_commit()``: True if queued."""
    if not callable(func):
        raise TypeError("on_commit()'s callback must be a callable.")
    if conn.in_atomic_block:
        conn.run_on_commit.append((set(conn.savepoint_ids), func, robust))
        return True
    if not conn.get_autocommit():
        raise TransactionManagementError(
            "on_commit() cannot be used in manual transaction management"
        )
    return False


async def run_hook(func: Callable[[], Any], robust: bool) -> None:
    """Run one ``on_commit`` callback: awaited if async, through ``sync_to_async`` if sync."""
    try:
        result = func()
        if hasattr(result, "__await__"):
            await result
    except Exception as exc:
        if not robust:
            raise
        logger.error(
            f"Error calling {getattr(func, '__qualname__', func)!s} in on_commit() (%s).",
            exc,
            exc_info=True,
        )


async def run_hooks(hooks: list[tuple[Any, Callable[[], Any], bool]]) -> None:
    """Mirrors ``run_and_clear_commit_hooks()``: in order; a non-robust failure stops the rest."""
    while hooks:
        _, func, robust = hooks.pop(0)
        await run_hook(as_awaitable(func), robust)


def as_awaitable(func: Callable[[], Any]) -> Callable[[], Any]:
    """``func`` itself if it is a coroutine function, else ``sync_to_async(func)``."""
    if inspect.iscoroutinefunction(func):
        return func
    return sync_to_async(func)


class NativeConnection:
    """A native pool connection with Django's transaction state and operations.

    Starts in autocommit, as Django's connections do outside ``atomic()``.
    """

    def __init__(self, alias: str, lease: Any) -> None:
        wrapper = connections[alias]
        self.alias = alias
        self.lease = lease
        self.ops = wrapper.ops
        self.features = wrapper.features
        self.vendor = wrapper.vendor
        self.autocommit = True
        self.in_atomic_block = False
        self.savepoint_ids: list[str | None] = []
        self.atomic_blocks: list[Block] = []
        self.needs_rollback = False
        self.rollback_exc: BaseException | None = None
        self.commit_on_exit = True
        self.closed_in_transaction = False
        self.savepoint_state = 0
        self.run_on_commit: list[tuple[Any, Callable[[], Any], bool]] = []
        self.committed_hooks: list[tuple[Any, Callable[[], Any], bool]] = []
        self.broken = False
        self._begin_sql = _begin_sql(wrapper)

    # The connection methods Django's Atomic calls.
    def get_autocommit(self) -> bool:
        return self.autocommit

    async def _run(self, sql: str) -> None:
        await self.lease.execute(Execute(sql, None, Fetch.NONE, using=self.alias))

    async def set_autocommit(self, autocommit: bool) -> None:
        if autocommit:
            self.autocommit = True
            return
        await self._run(self._begin_sql)
        self.autocommit = False

    def _savepoint_allowed(self) -> bool:
        if self.vendor == "sqlite":
            return self.in_atomic_block
        return self.features.uses_savepoints and not self.autocommit

    async def savepoint(self) -> str | None:
        """Mirrors ``BaseDatabaseWrapper.savepoint()``."""
        if not self._savepoint_allowed():
            return None
        tid = str(_thread.get_ident()).replace("-", "")
        self.savepoint_state += 1
        sid = f"s{tid}_x{self.savepoint_state}"
        await self._run(self.ops.savepoint_create_sql(sid))
        return sid

    async def savepoint_rollback(self, sid: str) -> None:
        if not self._savepoint_allowed():
            return
        await self._run(self.ops.savepoint_rollback_sql(sid))
        self.run_on_commit = [
            (sids, func, robust) for (sids, func, robust) in self.run_on_commit if sid not in sids
        ]

    async def savepoint_commit(self, sid: str) -> None:
        if not self._savepoint_allowed():
            return
        await self._run(self.ops.savepoint_commit_sql(sid))

    async def commit(self) -> None:
        await self._run("COMMIT")
        # Django runs the hooks when autocommit comes back; the atomic() block
        # runs them once the connection is back in the pool.
        self.committed_hooks, self.run_on_commit = self.run_on_commit, []

    async def rollback(self) -> None:
        await self._run("ROLLBACK")
        self.needs_rollback = False
        self.run_on_commit = []

    async def close(self) -> None:
        """A failed rollback: the connection is unusable (the pool discards it)."""
        self.broken = True
        if self.in_atomic_block:
            self.closed_in_transaction = True
            self.needs_rollback = True

    def discard(self) -> None:
        self.broken = True
        self.in_atomic_block = False
        self.autocommit = True

    # What the driver asks of a transactional lease.
    async def enter(self, savepoint: bool, durable: bool) -> Block:
        return await enter(self, savepoint, durable)

    async def exit(self, handle: Block, error: BaseException | None) -> None:
        await leave(self, error)

    def mark_rollback(self, error: BaseException | None = None) -> None:
        """Mirrors ``mark_for_rollback_on_error()`` after an error."""
        if self.in_atomic_block:
            self.needs_rollback = True
            self.rollback_exc = error

    def validate_no_broken_transaction(self) -> None:
        if self.needs_rollback:
            raise TransactionManagementError(
                "An error occurred in the current transaction. You can't "
                "execute queries until the end of the 'atomic' block."
            ) from self.rollback_exc


def _begin_sql(wrapper: Any) -> str:
    """The statement Django's backend starts a transaction with."""
    if wrapper.vendor == "sqlite":
        mode = wrapper.settings_dict["OPTIONS"].get("transaction_mode")  # validated by Django
        return f"BEGIN {mode.upper()}" if mode else "BEGIN"
    level = wrapper.settings_dict["OPTIONS"].get("isolation_level")
    if level is None:
        return "BEGIN"
    from django.db.backends.postgresql.psycopg_any import IsolationLevel

    return "BEGIN ISOLATION LEVEL " + IsolationLevel(level).name.replace("_", " ")


class CallerConnection:
    """The caller's Django connection, inside its transaction, driven from the event loop.

    Its thread is parked in ``async_to_sync``; Django's state on the wrapper is
    the state, and SQL goes through the lease's cursor (Django's connection
    methods refuse to run on an event loop). Only savepoints are ever needed:
    the connection is already in a transaction.
    """

    _STATE = frozenset(
        {
            "in_atomic_block",
            "savepoint_ids",
            "atomic_blocks",
            "needs_rollback",
            "commit_on_exit",
            "closed_in_transaction",
            "run_on_commit",
            "savepoint_state",
        }
    )

    def __init__(self, wrapper: Any, lease: Any) -> None:
        object.__setattr__(self, "wrapper", wrapper)
        object.__setattr__(self, "lease", lease)

    def __getattr__(self, name: str) -> Any:
        if name in CallerConnection._STATE:
            return getattr(self.wrapper, name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in CallerConnection._STATE:
            raise AttributeError(f"CallerConnection has no state {name!r}")
        setattr(self.wrapper, name, value)

    def get_autocommit(self) -> bool:
        return self.wrapper.autocommit

    async def _run(self, sql: str) -> None:
        await self.lease.execute(Execute(sql, None, Fetch.NONE, using=self.wrapper.alias))

    def _savepoint_allowed(self) -> bool:
        """Django's ``_savepoint_allowed()`` without ``get_autocommit()``'s connection check."""
        wrapper = self.wrapper
        if wrapper.vendor == "sqlite":
            return wrapper.in_atomic_block
        return wrapper.features.uses_savepoints and not wrapper.autocommit

    async def savepoint(self) -> str | None:
        """Mirrors ``BaseDatabaseWrapper.savepoint()``."""
        wrapper = self.wrapper
        if not self._savepoint_allowed():
            return None
        tid = str(_thread.get_ident()).replace("-", "")
        wrapper.savepoint_state += 1
        sid = f"s{tid}_x{wrapper.savepoint_state}"
        await self._run(wrapper.ops.savepoint_create_sql(sid))
        return sid

    async def savepoint_rollback(self, sid: str) -> None:
        wrapper = self.wrapper
        if not self._savepoint_allowed():
            return
        await self._run(wrapper.ops.savepoint_rollback_sql(sid))
        wrapper.run_on_commit = [
            (sids, func, robust)
            for (sids, func, robust) in wrapper.run_on_commit
            if sid not in sids
        ]

    async def savepoint_commit(self, sid: str) -> None:
        if not self._savepoint_allowed():
            return
        await self._run(self.wrapper.ops.savepoint_commit_sql(sid))

    async def _outermost(self, *args: Any) -> None:
        raise TransactionManagementError(
            "asyncorm_native: the caller's transaction can only be nested into, "
            "not committed or rolled back from async code."
        )

    set_autocommit = commit = rollback = close = _outermost

    def discard(self) -> None:
        self.wrapper.in_atomic_block = False

    async def enter(self, savepoint: bool, durable: bool) -> Block:
        return await enter(self, savepoint, durable)

    async def exit(self, handle: Block, error: BaseException | None) -> None:
        await leave(self, error)

    def mark_rollback(self, error: BaseException | None = None) -> None:
        if self.wrapper.in_atomic_block:
            self.wrapper.needs_rollback = True

    def validate_no_broken_transaction(self) -> None:
        self.wrapper.validate_no_broken_transaction()


class DjangoAtomics:
    """The sync driver's transactions: Django's own ``transaction.Atomic`` on its connection."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    async def enter(self, savepoint: bool, durable: bool) -> Any:
        block = transaction.Atomic(self.alias, savepoint, durable)
        block.__enter__()
        return block

    async def exit(self, handle: Any, error: BaseException | None) -> None:
        if error is None:
            handle.__exit__(None, None, None)
        else:
            handle.__exit__(type(error), error, error.__traceback__)

    def mark_rollback(self, error: BaseException | None = None) -> None:
        connection = transaction.get_connection(self.alias)
        if connection.in_atomic_block:
            connection.needs_rollback = True

    def validate_no_broken_transaction(self) -> None:
        """Django's cursor wrapper checks it on every query."""
