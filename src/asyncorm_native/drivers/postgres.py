"""PostgreSQL: a psycopg 3 ``AsyncConnectionPool`` configured exactly like Django's backend.

Connection parameters come from Django's own ``DatabaseWrapper.get_connection_params()``
(NAME, USER, HOST, PORT, OPTIONS, the adapters map built for USE_TZ and
TIME_ZONE, ``prepare_threshold``...). Only the cursor classes change, to the
async twins of Django's: client-side binding unless OPTIONS["server_side_binding"]
is True, and a client-binding server-side cursor for chunked reads. Each new
connection gets Django's timezone and role setup; each cursor gets Django's
timezone loader check.

Faults: a connection the server closed while it sat idle in the pool (restart,
``pg_terminate_backend()``, an idle timeout) is detected when it is taken, without
a round trip unless the server sent something since (what it does before closing),
and replaced; one broken during a query raises Django's ``OperationalError`` and is
discarded when the plan gives it back. When the pool cannot connect, the
``PoolTimeout`` says why.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import select
import time
import weakref
from typing import Any

import psycopg
from django.apps import apps
from django.db import connections
from django.db.backends.postgresql.psycopg_any import IsolationLevel
from psycopg.client_cursor import ClientCursorMixin
from psycopg.pq import ConnStatus, Format, TransactionStatus
from psycopg.types import TypeInfo, hstore
from psycopg_pool import AsyncConnectionPool, TooManyRequests
from psycopg_pool import PoolTimeout as PsycopgPoolTimeout

from ..errors import PoolQueueFull, PoolTimeout
from ..steps import Execute, Fetch, Row
from .base import logged_query
from .pgtypes import register_tzloader

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
_cursor_names = itertools.count(1)
logger = logging.getLogger("asyncorm_native")


class AsyncClientSideCursor(psycopg.AsyncClientCursor):
    """Async twin of Django's ``Cursor`` (client-side parameter binding)."""


class AsyncServerSideCursor(ClientCursorMixin, psycopg.AsyncServerCursor):  # type: ignore[misc]
    """Async twin of Django's ``ServerSideCursor``: a named cursor with client-side binding."""


def _column_names(description: Any) -> list[str] | None:
    return None if description is None else [column.name for column in description]


if hasattr(select, "poll"):

    def _readable(fd: int) -> bool:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))

else:  # Windows: select() takes sockets of any number there

    def _readable(fd: int) -> bool:
        return bool(select.select([fd], [], [], 0)[0])


def _suspect(conn: psycopg.AsyncConnection) -> bool:
    """True when an idle connection may be dead: closed, or the server sent something.

    An idle connection receives nothing unasked but notices, notifications and
    the FATAL error the server sends before it closes the connection (shutdown,
    ``pg_terminate_backend()``, ``idle_session_timeout``). Costs one ``poll()``.
    """
    pgconn = conn.pgconn
    if pgconn.status != ConnStatus.OK:
        return True
    try:
        return _readable(pgconn.socket)
    except (OSError, psycopg.OperationalError):
        return True


def _connection_class(pool: PostgresPool) -> type[psycopg.AsyncConnection]:
    """``AsyncConnection`` recording, on ``pool``, whether its last connection attempt failed."""
    pool_ref = weakref.ref(pool)

    class PoolConnection(psycopg.AsyncConnection):
        @classmethod
        async def connect(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                conn = await super().connect(*args, **kwargs)
            except psycopg.Error as exc:
                if (owner := pool_ref()) is not None:
                    owner.connect_error = (time.monotonic(), exc)
                raise
            if (owner := pool_ref()) is not None:
                owner.connect_error = None
            return conn

    PoolConnection.__qualname__ = "PoolConnection"  # in psycopg's warnings
    return PoolConnection


class PostgresPool:
    """The native pool of one alias on one event loop."""

    vendor = "postgresql"

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        wrapper = connections[alias]
        self.alias = alias
        self.database_name = wrapper.settings_dict["NAME"]
        self.server_version: int | None = None
        settings_options = wrapper.settings_dict["OPTIONS"]
        params = wrapper.get_connection_params()
        server_side_binding = settings_options.get("server_side_binding") is True
        params["cursor_factory"] = (
            psycopg.AsyncCursor if server_side_binding else AsyncClientSideCursor
        )
        params["autocommit"] = True
        # Django's adapters map, with its timestamptz loader parsing in compiled code.
        context = psycopg.adapt.AdaptersMap(params["context"])
        register_tzloader(wrapper.timezone, context)
        params["context"] = context
        self._server_cursor_class = (
            psycopg.AsyncServerCursor if server_side_binding else AsyncServerSideCursor
        )
        self._isolation_level = None
        if "isolation_level" in settings_options:
            self._isolation_level = IsolationLevel(settings_options["isolation_level"])
        self._options = options
        self._contrib_types: dict[str, list[tuple[int, int]]] | None = None
        self._connections: weakref.WeakSet[psycopg.AsyncConnection] = weakref.WeakSet()
        self._leased: weakref.WeakSet[psycopg.AsyncConnection] = weakref.WeakSet()
        # CONN_HEALTH_CHECKS: a round trip before each use, as Django checks a
        # persistent connection before reusing it. Done by acquire(), not by the
        # pool's check=, which waits 1 s, 2 s, 4 s... between two failed checks.
        self._health_checks = bool(wrapper.settings_dict.get("CONN_HEALTH_CHECKS"))
        #: When and how the last connection attempt failed (None once one succeeds).
        self.connect_error: tuple[float, BaseException] | None = None
        self._pool = AsyncConnectionPool(
            kwargs=params,
            connection_class=_connection_class(self),
            min_size=options["min_size"],
            max_size=options["max_size"],
            timeout=options["timeout"],
            open=False,
            configure=self._configure,
            name=f"asyncorm_native:{alias}",
            **{k: v for k, v in options.items() if k not in {"min_size", "max_size", "timeout"}},
        )

    async def _configure(self, conn: psycopg.AsyncConnection) -> None:
        self._connections.add(conn)
        try:
            await self._set_up(conn)
        except BaseException:
            # psycopg_pool drops a connection whose setup failed, or was cancelled
            # as the loop ends, without closing it: close it now, not at its
            # garbage collection (closing does not suspend, cancelled or not).
            await conn.close()
            raise

    async def _set_up(self, conn: psycopg.AsyncConnection) -> None:
        """Mirrors ``DatabaseWrapper._configure_connection()`` (timezone, role) and isolation."""
        wrapper = connections[self.alias]
        if self.server_version is None:
            self.server_version = conn.info.server_version
        if self._isolation_level is not None:
            await conn.set_isolation_level(self._isolation_level)
        timezone_name = wrapper.timezone_name
        if timezone_name and conn.info.parameter_status("TimeZone") != timezone_name:
            async with conn.cursor() as cursor:
                await cursor.execute(wrapper.ops.set_time_zone_sql(), [timezone_name])
        if new_role := wrapper.settings_dict["OPTIONS"].get("assume_role"):
            async with conn.cursor() as cursor:
                await cursor.execute(
                    psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Literal(new_role))
                )
        if apps.is_installed("django.contrib.postgres"):
            await self._register_contrib_postgres_types(conn)

    async def _register_contrib_postgres_types(self, conn: psycopg.AsyncConnection) -> None:
        """Mirrors ``django.contrib.postgres.signals.register_type_handlers()`` (psycopg 3)."""
        if self._contrib_types is None:
            found: dict[str, list[tuple[int, int]]] = {"hstore": [], "citext": []}
            async with conn.cursor() as cursor:
                await cursor.execute(
                    "SELECT typname, oid, typarray FROM pg_type"
                    " WHERE typname IN ('hstore', 'citext')"
                )
                for typname, oid, typarray in await cursor.fetchall():
                    found[typname].append((oid, typarray))
            self._contrib_types = found
        for oid, array_oid in self._contrib_types["hstore"]:
            hstore.register_hstore(TypeInfo("hstore", oid, array_oid), conn)
        for _oid, array_oid in self._contrib_types["citext"]:
            TypeInfo("citext", 0, array_oid).register(conn)

    async def open(self) -> None:
        started = time.monotonic()
        try:
            await self._pool.open(
                wait=self._options["min_size"] > 0, timeout=self._options["timeout"]
            )
            if self.server_version is None:
                lease = await self.acquire()
                await lease.release()
        except BaseException as exc:
            await self._pool.close()
            if isinstance(exc, PsycopgPoolTimeout):  # pool initialization incomplete
                raise self._timeout(started) from exc
            raise

    def _timeout(self, started: float) -> PoolTimeout:
        """The error for a wait begun at ``started``: connections busy, or connecting fails."""
        failed = self.connect_error
        return PoolTimeout(
            self.alias,
            self._options["timeout"],
            self._options["max_size"],
            failed[1] if failed is not None and failed[0] >= started else None,
        )

    async def acquire(self) -> PostgresLease:
        """A live connection, within ``timeout``; dead idle ones are replaced on the way."""
        started = time.monotonic()
        deadline = started + self._options["timeout"]
        while True:
            try:
                conn = await self._pool.getconn(deadline - time.monotonic())
            except PsycopgPoolTimeout as exc:
                raise self._timeout(started) from exc
            except TooManyRequests as exc:
                raise PoolQueueFull(
                    self.alias, self._options["max_waiting"], self._options["max_size"]
                ) from exc
            if await self._usable(conn):
                self._leased.add(conn)
                return PostgresLease(self, conn)

    async def _usable(self, conn: psycopg.AsyncConnection) -> bool:
        """Whether ``conn``, just taken, works; if not, it goes back to be replaced."""
        if not (self._health_checks or _suspect(conn)):
            return True
        try:
            await AsyncConnectionPool.check_connection(conn)
            return True
        except psycopg.Error as exc:
            logger.info("asyncorm_native: replacing a dead %r connection: %s", self.alias, exc)
            await conn.close()
            await self._pool.putconn(conn)  # closed: the pool discards it, opens another
            return False
        except BaseException:
            await self.release(conn)
            raise

    async def release(self, conn: psycopg.AsyncConnection) -> None:
        self._leased.discard(conn)
        if conn.pgconn.transaction_status == TransactionStatus.IDLE:
            await self._pool.putconn(conn)  # completes without suspending: cannot be interrupted
        else:
            await asyncio.shield(self._pool.putconn(conn))

    async def close(self) -> None:
        cancelled = False
        try:
            await self._pool.close()
        except asyncio.CancelledError:
            # During loop shutdown asyncio has already cancelled the pool's worker
            # tasks, and psycopg's close() stops at them.
            cancelled = True
            raise
        finally:
            # Close what psycopg_pool lost track of: connections its workers set up
            # but were cancelled (the loop ending) before pooling them; all of
            # them if its close() stopped. Leased ones close when given back.
            for conn in list(self._connections):
                if not conn.closed and (cancelled or conn not in self._leased):
                    await conn.close()  # does not suspend

    def stats(self) -> dict[str, Any]:
        stats = self._pool.get_stats()
        return {
            "vendor": self.vendor,
            "size": stats.get("pool_size", 0),
            "idle": stats.get("pool_available", 0),
            "max_size": self._options["max_size"],
        }


class PostgresLease:
    """One pooled connection, held for one plan run."""

    __slots__ = ("_conn", "_pool", "_stream")

    def __init__(self, pool: PostgresPool, conn: psycopg.AsyncConnection) -> None:
        self._pool = pool
        self._conn = conn
        self._stream: Any = None

    def _prepare(self, cursor: Any, wrapper: Any) -> Any:
        """Mirrors the timezone check of Django's ``create_cursor()``."""
        tzloader = self._conn.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if wrapper.timezone != tzloader.timezone:
            register_tzloader(wrapper.timezone, cursor)
        return cursor

    async def execute(self, step: Execute) -> Any:
        wrapper = connections[step.using]
        conn = self._conn
        with wrapper.wrap_database_errors:
            if step.fetch is Fetch.STREAM and step.server_side:
                cursor = self._pool._server_cursor_class(
                    conn,
                    name=f"_asyncorm_curs_{next(_cursor_names)}",
                    scrollable=False,
                    withhold=conn.autocommit,
                )
            else:
                cursor = conn.cursor()
            self._prepare(cursor, wrapper)
            with logged_query(wrapper, step.sql, step.params):
                await cursor.execute(step.sql, step.params)
            if step.fetch is Fetch.ALL:
                rows = await cursor.fetchall()
                if step.describe:
                    return rows, _column_names(cursor.description)
                return rows
            if step.fetch is Fetch.ONE:
                return await cursor.fetchone()
            if step.fetch is not Fetch.STREAM:  # a write: ROWCOUNT or NONE
                return cursor.rowcount if step.fetch is Fetch.ROWCOUNT else None
            self._stream = cursor
            return None

    async def fetchmany(self, size: int) -> list[Row]:
        with connections[self._pool.alias].wrap_database_errors:
            return await self._stream.fetchmany(size)

    async def close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None and not self._conn.closed:
            with connections[self._pool.alias].wrap_database_errors:
                await stream.close()

    async def release(self) -> None:
        try:
            if self._stream is not None:
                stream, self._stream = self._stream, None
                if self._conn.pgconn.transaction_status == TransactionStatus.IDLE:
                    await stream.close()
        finally:
            await self._pool.release(self._conn)
