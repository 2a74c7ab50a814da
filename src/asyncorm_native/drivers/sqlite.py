"""SQLite: aiosqlite connections set up like Django's, in a small per-loop pool.

Connection parameters come from Django's ``DatabaseWrapper.get_connection_params()``
(NAME, ``detect_types``, ``check_same_thread=False``, ``uri``, OPTIONS); each
connection registers the SQL functions Django registers (``_functions.register``),
runs Django's PRAGMAs and ``init_command``, and works in autocommit. The
``%s``-to-``?`` placeholder conversion is Django's ``SQLiteCursorWrapper.convert_query``;
the datetime/decimal converters and adapters are the ones Django registers on
the ``sqlite3`` module.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import aiosqlite
from django.db import connections
from django.db.backends.sqlite3._functions import register as register_functions
from django.db.backends.sqlite3.base import SQLiteCursorWrapper

from ..errors import PoolTimeout
from ..steps import Execute, Fetch, Params, Row
from .base import logged_query, written

_DJANGO_PRAGMAS = ("PRAGMA foreign_keys = ON", "PRAGMA legacy_alter_table = OFF")
logger = logging.getLogger("asyncorm_native")


@lru_cache(maxsize=2048)
def _convert_query(sql: str, param_names: tuple[str, ...] | None) -> str:
    # convert_query() does not use its instance; Django's own method does the work.
    return SQLiteCursorWrapper.convert_query(
        None, sql, param_names=None if param_names is None else list(param_names)
    )


def convert(sql: str, params: Params) -> tuple[str, Any]:
    """Mirrors ``SQLiteCursorWrapper.execute()``'s placeholder conversion."""
    if params is None:
        return sql, None
    names = tuple(params) if isinstance(params, Mapping) else None
    return _convert_query(sql, names), params


def _connection_class(init_commands: tuple[str, ...]) -> type[sqlite3.Connection]:
    class DjangoSQLiteConnection(sqlite3.Connection):
        """Set up as Django's ``get_new_connection()`` sets up its connections."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            register_functions(self)
            for statement in (*_DJANGO_PRAGMAS, *init_commands):
                self.execute(statement)

    return DjangoSQLiteConnection


class SQLitePool:
    """Up to ``max_size`` aiosqlite connections of one alias on one event loop."""

    vendor = "sqlite"

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        wrapper = connections[alias]
        self.alias = alias
        self.database_name = wrapper.settings_dict["NAME"]
        self.server_version = None
        params = wrapper.get_connection_params()  # also parses init_command
        self._database = params.pop("database")
        params.pop("factory", None)
        self._params = {
            **params,
            "isolation_level": None,  # autocommit, as Django's connection outside atomic()
            "factory": _connection_class(
                tuple(c.strip() for c in wrapper.init_commands if c.strip())
            ),
        }
        self._options = options
        self._idle: list[aiosqlite.Connection] = []
        self._size = 0
        self._slots = asyncio.Semaphore(options["max_size"])
        self._closed = False

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self._database, **self._params)
        self._size += 1
        return conn

    async def open(self) -> None:
        for _ in range(self._options["min_size"] - self._size):
            self._idle.append(await self._connect())

    async def acquire(self) -> SQLiteLease:
        if self._closed:
            raise RuntimeError(f"asyncorm_native: the {self.alias!r} pool is closed")
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), self._options["timeout"])
            except TimeoutError:
                raise PoolTimeout(
                    self.alias, self._options["timeout"], self._options["max_size"]
                ) from None
        else:
            await self._slots.acquire()
        try:
            conn = self._idle.pop() if self._idle else await self._connect()
        except BaseException:
            self._slots.release()
            raise
        return SQLiteLease(self, conn)

    async def release(self, conn: aiosqlite.Connection) -> None:
        if self._closed:
            self._size -= 1
            await conn.close()
        else:
            self._idle.append(conn)
        self._slots.release()

    async def discard(self, conn: aiosqlite.Connection) -> None:
        """Close a connection in an unknown state instead of giving it back (rolls it back)."""
        self._size -= 1
        try:
            await asyncio.shield(conn.close())  # after what its thread still has to run
        except Exception as exc:  # it is thrown away anyway
            logger.info("asyncorm_native: closing a discarded %r connection: %s", self.alias, exc)
        finally:
            self._slots.release()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._size -= 1
            await conn.close()

    def stats(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "size": self._size,
            "idle": len(self._idle),
            "max_size": self._options["max_size"],
        }


class SQLiteLease:
    """One aiosqlite connection, held for one plan run."""

    __slots__ = ("_cancelled", "_conn", "_pool", "_stream")

    def __init__(self, pool: SQLitePool, conn: aiosqlite.Connection) -> None:
        self._pool = pool
        self._conn = conn
        self._stream: Any = None
        self._cancelled = False

    async def execute(self, step: Execute) -> Any:
        try:
            return await self._execute(step)
        except asyncio.CancelledError:
            # The statement goes on in aiosqlite's thread, or has yet to start
            # there: stop it if it runs. What the connection is left with (a
            # transaction begun after we looked, a pending statement that would
            # carry the interrupt over to the next query) is unknown: release()
            # closes it.
            self._cancelled = True
            await self._conn.interrupt()
            raise

    async def _execute(self, step: Execute) -> Any:
        sql, params = convert(step.sql, step.params)
        wrapper = connections[step.using]
        with wrapper.wrap_database_errors:
            if step.fetch is Fetch.ALL and not step.describe:
                with logged_query(wrapper, step.sql, step.params):
                    return await self._conn.execute_fetchall(sql, params)
            if step.fetch is Fetch.ONE:
                with logged_query(wrapper, step.sql, step.params):
                    rows = await self._conn.execute_fetchall(sql, params)
                return rows[0] if rows else None
            with logged_query(wrapper, step.sql, step.params):
                cursor = await self._conn.execute(sql, params)
            if step.fetch is Fetch.STREAM:
                self._stream = cursor
                return None
            if step.fetch is not Fetch.ALL:
                result = written(step, cursor)
                await cursor.close()
                return result
            rows = await cursor.fetchall()
            description = cursor.description
            await cursor.close()
            return rows, None if description is None else [column[0] for column in description]

    async def fetchmany(self, size: int) -> list[Row]:
        with connections[self._pool.alias].wrap_database_errors:
            return await self._stream.fetchmany(size)

    async def close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.close()

    async def release(self) -> None:
        conn = self._conn
        if self._cancelled:
            self._stream = None
            await self._pool.discard(conn)
            return
        try:
            await self.close_stream()
            if conn.in_transaction:  # a plan or atomic() block ended without COMMIT
                await conn.rollback()
        except BaseException:
            await self._pool.discard(conn)
            raise
        await self._pool.release(conn)
