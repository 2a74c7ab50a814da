"""PostgreSQL: a psycopg 3 ``AsyncConnectionPool`` configured exactly like Django's backend.

Connection parameters come from Django's own ``DatabaseWrapper.get_connection_params()``
(NAME, USER, HOST, PORT, OPTIONS, the adapters map built for USE_TZ and
TIME_ZONE, ``prepare_threshold``...). Only the cursor classes change, to the
async twins of Django's: client-side binding unless OPTIONS["server_side_binding"]
is True, and a client-binding server-side cursor for chunked reads. Each new
connection gets Django's timezone and role setup; each cursor gets Django's
timezone loader check.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from typing import Any

import psycopg
from django.apps import apps
from django.db import connections
from django.db.backends.postgresql.psycopg_any import IsolationLevel
from psycopg.client_cursor import ClientCursorMixin
from psycopg.pq import Format, TransactionStatus
from psycopg.types import TypeInfo, hstore
from psycopg_pool import AsyncConnectionPool
from psycopg_pool import PoolTimeout as PsycopgPoolTimeout

from ..errors import PoolTimeout
from ..steps import Execute, Fetch, Row
from .base import logged_query
from .pgtypes import register_tzloader

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
_cursor_names = itertools.count(1)


class AsyncClientSideCursor(psycopg.AsyncClientCursor):
    """Async twin of Django's ``Cursor`` (client-side parameter binding)."""


class AsyncServerSideCursor(ClientCursorMixin, psycopg.AsyncServerCursor):  # type: ignore[misc]
    """Async twin of Django's ``ServerSideCursor``: a named cursor with client-side binding."""


def _column_names(description: Any) -> list[str] | None:
    return None if description is None else [column.name for column in description]


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
        self._pool = AsyncConnectionPool(
            kwargs=params,
            min_size=options["min_size"],
            max_size=options["max_size"],
            timeout=options["timeout"],
            open=False,
            configure=self._configure,
            check=(
                AsyncConnectionPool.check_connection
                if wrapper.settings_dict.get("CONN_HEALTH_CHECKS")
                else None
            ),
            name=f"asyncorm_native:{alias}",
            **{k: v for k, v in options.items() if k not in {"min_size", "max_size", "timeout"}},
        )

    async def _configure(self, conn: psycopg.AsyncConnection) -> None:
        """Mirrors ``DatabaseWrapper._configure_connection()`` (timezone, role) and isolation."""
        self._connections.add(conn)
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
        await self._pool.open(wait=self._options["min_size"] > 0, timeout=self._options["timeout"])
        if self.server_version is None:
            async with self._pool.connection() as conn:
                self.server_version = conn.info.server_version

    async def acquire(self) -> PostgresLease:
        try:
            conn = await self._pool.getconn()
        except PsycopgPoolTimeout as exc:
            raise PoolTimeout(
                self.alias, self._options["timeout"], self._options["max_size"]
            ) from exc
        return PostgresLease(self, conn)

    async def release(self, conn: psycopg.AsyncConnection) -> None:
        if conn.pgconn.transaction_status == TransactionStatus.IDLE:
            await self._pool.putconn(conn)  # completes without suspending: cannot be interrupted
        else:
            await asyncio.shield(self._pool.putconn(conn))

    async def close(self) -> None:
        try:
            await self._pool.close()
        except asyncio.CancelledError:
            # During loop shutdown asyncio has already cancelled the pool's worker
            # tasks, and psycopg's close() stops at them: close the connections here.
            for conn in list(self._connections):
                if not conn.closed:
                    await conn.close()
            raise

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
