"""Native pools: one per database alias and event loop, created on first use.

A pool belongs to the loop that created it (asyncio and psycopg objects cannot
cross loops). Pools close with :func:`close_pools`, on ASGI lifespan shutdown
(``asyncorm_native.asgi``) and, failing both, when their loop shuts down: a
guardian task per loop waits forever, and when ``asyncio.run()`` (or
``asyncio.Runner``, ``async_to_sync``) cancels the remaining tasks it closes
that loop's pools. This must happen then, not later: psycopg_pool's workers
ignore cancellation while they connect, and only a closing pool stops them.
Changing ``DATABASES``, ``TIME_ZONE`` or ``USE_TZ`` retires the pools so new
connections pick the change up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

from django.db import connections

from . import conf
from .plans import Unsupported

logger = logging.getLogger("asyncorm_native")

#: Django's own backends only: a subclass (PostGIS, custom engines) may set up
#: its connections in ways the native drivers do not repeat.
SUPPORTED_BACKENDS = {
    "django.db.backends.postgresql.base": "postgresql",
    "django.db.backends.sqlite3.base": "sqlite",
}
RESET_SETTINGS = frozenset({"DATABASES", "TIME_ZONE", "USE_TZ", conf.SETTING})


class _LoopPools:
    """The pools of one event loop."""

    def __init__(self) -> None:
        self.pools: dict[str, Any] = {}
        self.opening: dict[str, asyncio.Future[Any]] = {}
        self.guardian: asyncio.Task[None] | None = None

    async def close(self, *, loop_ending: bool = False) -> None:
        """Close every pool; at loop shutdown, swallow the cancellations asyncio has dealt."""
        pools, self.pools = list(self.pools.values()), {}
        cancelled = False
        for pool in pools:
            try:
                await pool.close()
            except asyncio.CancelledError:
                cancelled = True
            except Exception:  # closing must go on for the other pools
                logger.exception("asyncorm_native: closing the %r pool failed", pool.alias)
        if cancelled and not loop_ending:
            raise asyncio.CancelledError


_registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPools] = (
    weakref.WeakKeyDictionary()
)
_server_versions: dict[str, int] = {}


async def _guard(loop: asyncio.AbstractEventLoop, entry: _LoopPools) -> None:
    """Wait until cancelled (the loop is ending), then close the loop's pools."""
    try:
        await loop.create_future()
    except asyncio.CancelledError:
        if _registry.get(loop) is entry:
            del _registry[loop]
        await entry.close(loop_ending=True)
        raise


def _loop_entry(loop: asyncio.AbstractEventLoop) -> _LoopPools:
    entry = _registry.get(loop)
    if entry is None:
        entry = _registry[loop] = _LoopPools()
        entry.guardian = loop.create_task(_guard(loop, entry), name="asyncorm_native pools")
    return entry


_support: dict[str, tuple[tuple[Any, ...], str | None]] = {}


def check_supported(alias: str) -> None:
    """Raise :class:`Unsupported` unless ``alias`` can run natively (cached per configuration)."""
    settings_dict = connections.settings.get(alias)
    if settings_dict is None:
        connections[alias]  # raises Django's own ConnectionDoesNotExist
    key = (settings_dict["ENGINE"], settings_dict["NAME"], conf.current())
    cached = _support.get(alias)
    if cached is None or cached[0] != key:
        try:
            _check_supported(alias)
        except Unsupported as exc:
            cached = _support[alias] = (key, exc.kind)
        else:
            cached = _support[alias] = (key, None)
    if cached[1] is not None:
        raise Unsupported(cached[1])


def _check_supported(alias: str) -> None:
    wrapper = connections[alias]
    vendor = SUPPORTED_BACKENDS.get(type(wrapper).__module__)
    if vendor is None:
        raise Unsupported(f"no native driver for the {type(wrapper).__module__} backend")
    if vendor == "postgresql":
        from django.db.backends.postgresql.psycopg_any import is_psycopg3

        if not is_psycopg3:
            raise Unsupported("PostgreSQL through psycopg2 (the native driver needs psycopg 3)")
    else:
        name = str(wrapper.settings_dict["NAME"])
        if (
            name == ":memory:"
            or name == ""
            or ("mode=memory" in name and "cache=shared" not in name)
        ):
            raise Unsupported("private in-memory SQLite database (other connections cannot see it)")
    databases = conf.current().databases
    if databases is not None and alias not in databases:
        raise Unsupported(f"database {alias!r} not in ASYNCORM_NATIVE['DATABASES']")


def _new_pool(alias: str) -> Any:
    check_supported(alias)
    options = conf.current().pool_options(alias)
    if connections[alias].vendor == "postgresql":
        from .drivers.postgres import PostgresPool

        return PostgresPool(alias, options)
    from .drivers.sqlite import SQLitePool

    return SQLitePool(alias, options)


def prime(alias: str) -> None:
    """Give this thread's Django connection the server version, so compiling needs no query."""
    version = _server_versions.get(alias)
    if version is not None:
        wrapper = connections[alias]
        if "pg_version" not in wrapper.__dict__:
            wrapper.__dict__["pg_version"] = version


def prepared(alias: str) -> bool:
    """Before compiling for ``alias``: True once Django will not query the server version.

    Primes this thread's connection when the version is known; False means
    :func:`prepare` must run first (the first query of a PostgreSQL alias).
    """
    if alias in _server_versions:
        prime(alias)
        return True
    return connections.settings[alias]["ENGINE"] != "django.db.backends.postgresql"


async def prepare(alias: str) -> None:
    """Open the pool of ``alias``, which learns the server version and primes this thread."""
    if not prepared(alias):
        await get_pool(alias)


async def get_pool(alias: str) -> Any:
    """The open pool of ``alias`` for the running loop (created and opened on first use)."""
    loop = asyncio.get_running_loop()
    entry = _registry.get(loop) or _loop_entry(loop)
    pool = entry.pools.get(alias)
    if pool is not None and pool.database_name == connections.settings[alias]["NAME"]:
        return pool
    if pool is not None:  # the database was renamed (test databases): start afresh
        entry.pools.pop(alias)
        _close_later(loop, pool)
    opening = entry.opening.get(alias)
    if opening is not None:
        return await asyncio.shield(opening)
    opening = entry.opening[alias] = loop.create_future()
    try:
        pool = _new_pool(alias)
        await pool.open()
    except BaseException as exc:
        entry.opening.pop(alias, None)
        opening.set_exception(exc)
        opening.exception()  # retrieved: waiters re-raise it, no "never retrieved" warning
        raise
    entry.pools[alias] = pool
    entry.opening.pop(alias, None)
    opening.set_result(pool)
    if pool.server_version is not None:
        _server_versions[alias] = pool.server_version
        prime(alias)
    return pool


_closing: set[asyncio.Task[None]] = set()


def _close_later(loop: asyncio.AbstractEventLoop, pool: Any) -> None:
    """Close a retired pool in the background, on its own loop."""
    task = loop.create_task(pool.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


async def close_pools() -> None:
    """Close the native pools of the running event loop (they reopen on next use)."""
    entry = _registry.get(asyncio.get_running_loop())
    if entry is not None:
        await entry.close()


def retire_pools(**kwargs: Any) -> None:
    """``setting_changed`` receiver: pools made under old settings close and are rebuilt."""
    if kwargs.get("setting") not in RESET_SETTINGS:
        return
    _server_versions.clear()
    _support.clear()
    for loop, entry in list(_registry.items()):
        pools, entry.pools = list(entry.pools.values()), {}
        if not pools or loop.is_closed():
            continue
        for pool in pools:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_close_later, loop, pool)


def stats() -> dict[str, dict[str, Any]]:
    """Size and idle count of each pool of the running loop (empty outside a loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return {}
    entry = _registry.get(loop)
    if entry is None:
        return {}
    return {alias: pool.stats() for alias, pool in entry.pools.items()}
