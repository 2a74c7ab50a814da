"""Database faults, for real: killed backends, an exhausted pool, cancellation storms, a restart.

Nothing is mocked. Backends are killed with ``pg_terminate_backend()`` from another
connection, the pool is exhausted by holding its connections, a thousand tasks are
cancelled at random points, and the PostgreSQL server is restarted with
``pg_ctlcluster`` (root only; skipped with the reason otherwise). Each time the
shim must raise what stock Django raises (``django.db.OperationalError``), give
every connection back, and serve the next query on a working connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import psycopg
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.db import OperationalError, connections
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.test import override_settings

import asyncorm_native
from asyncorm_native import atomic, pools
from asyncorm_native.errors import PoolQueueFull, PoolTimeout
from tests.conftest import postgres_absent_reason

from .zoo.models import Book, Tag, Tally

#: What every test here gives the pool unless it says otherwise.
POOL = {"min_size": 1, "max_size": 4, "timeout": 10}
#: Queries that keep the server busy (SQLite: a recursive count, no sleep there).
SLOW_SQL = {
    "postgres": "SELECT 1 FROM pg_sleep({seconds}) /* {marker} */",
    "default": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < {rows}) SELECT count(*) > 0 FROM c",
}


class Rollback(Exception):
    """Raised at the end of an atomic() block so that it rolls back."""


def slow_tags(alias: str, seconds: float, marker: str = "asyncorm-fault") -> Any:
    """Tags annotated with a subquery that takes about ``seconds`` (PostgreSQL) or a while."""
    sql = SLOW_SQL[alias].format(seconds=seconds, marker=marker, rows=int(seconds * 3_000_000))
    return Tag.objects.using(alias).annotate(slow=RawSQL(sql, (), output_field=IntegerField()))


async def native_pid(alias: str) -> int:
    """The backend pid of the pool connection a native query gets."""
    qs = Tag.objects.using(alias).annotate(pid=RawSQL("pg_backend_pid()", (), IntegerField()))
    return await qs.values_list("pid", flat=True).afirst()


@contextlib.asynccontextmanager
async def admin() -> AsyncIterator[psycopg.AsyncConnection]:
    """A plain psycopg connection to the server, outside the test database."""
    cfg = connections["postgres"].settings_dict
    conn = await psycopg.AsyncConnection.connect(
        dbname="postgres",
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        host=cfg["HOST"],
        port=cfg["PORT"],
        autocommit=True,
    )
    try:
        yield conn
    finally:
        await conn.close()


async def backends(alias: str) -> dict[int, str]:
    """pid -> state of every session on the test database."""
    async with admin() as conn:
        cursor = await conn.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = %s",
            [connections[alias].settings_dict["NAME"]],
        )
        return dict(await cursor.fetchall())


async def kill_when_running(marker: str, timeout: float = 5.0) -> int:
    """Wait for a query containing ``marker`` to run, terminate its backend, return its pid."""
    async with admin() as conn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cursor = await conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                " AND query LIKE %s",
                [connections["postgres"].settings_dict["NAME"], f"%{marker}%"],
            )
            row = await cursor.fetchone()
            if row is not None:
                await conn.execute("SELECT pg_terminate_backend(%s)", [row[0]])
                return row[0]
            await asyncio.sleep(0.01)
    raise AssertionError(f"no query with {marker!r} ran within {timeout}s")


async def terminate(pids: set[int]) -> None:
    async with admin() as conn:
        for pid in pids:
            await conn.execute("SELECT pg_terminate_backend(%s)", [pid])


def in_use(alias: str) -> int:
    stats = pools.stats()[alias]
    return stats["size"] - stats["idle"]


async def settled(alias: str, timeout: float = 5.0) -> dict[str, Any]:
    """The pool's stats once every connection is back (fails if one is not)."""
    deadline = time.monotonic() + timeout
    while in_use(alias) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    stats = pools.stats()[alias]
    assert stats["size"] == stats["idle"] <= stats["max_size"], stats
    return stats


async def pool_pids(alias: str) -> set[int]:
    """Backend pids of the open connections the native pool of ``alias`` made."""
    pool = await pools.get_pool(alias)
    return {conn.info.backend_pid for conn in list(pool._connections) if not conn.closed}


@pytest.fixture
def pg(django_databases: set[str], zoo: set[str]) -> str:
    """The PostgreSQL alias (these faults are PostgreSQL's)."""
    if "postgres" not in django_databases:
        pytest.skip(postgres_absent_reason() or "PostgreSQL is not configured")
    return "postgres"


@pytest.fixture
async def faults(native: None) -> AsyncIterator[None]:
    """The shim installed, pools of :data:`POOL` size."""
    with override_settings(ASYNCORM_NATIVE={"POOL": POOL}):
        yield
        await asyncorm_native.close_pools()


# --- 1. A backend killed in the middle of a query ------------------------------------------


async def kill_during(call: Callable[[], Awaitable[Any]], marker: str) -> BaseException:
    """Run ``call`` while its backend is terminated: the exception it raised."""
    task = asyncio.ensure_future(call())
    await kill_when_running(marker)
    with pytest.raises(Exception) as caught:
        await task
    return caught.value


async def test_killed_backend_raises_djangos_error_like_stock(pg: str) -> None:
    """Stock aget() and the native one raise the same error; the pool serves on."""
    marker = "asyncorm-fault-kill-stock"
    stock = await kill_during(lambda: slow_tags(pg, 2, marker).aget(name="sf"), marker)
    await sync_to_async(lambda: connections[pg].close())()  # stock's thread: a dead connection

    asyncorm_native.install()
    try:
        with override_settings(ASYNCORM_NATIVE={"POOL": POOL}):
            before = await native_pid(pg)
            started = time.monotonic()
            native = await kill_during(lambda: slow_tags(pg, 2, marker).aget(name="sf"), marker)
            failed_after = time.monotonic() - started
            started = time.monotonic()
            after = await native_pid(pg)  # a fresh connection, at once
            recovered_in = time.monotonic() - started
            stats = await settled(pg)
            assert before not in await backends(pg)
            assert before not in await pool_pids(pg)
            await asyncorm_native.close_pools()
    finally:
        asyncorm_native.uninstall()
    assert type(stock) is type(native) is OperationalError
    assert str(stock) == str(native) == "terminating connection due to administrator command"
    assert type(native.__cause__) is type(stock.__cause__) is psycopg.errors.AdminShutdown
    assert after != before
    assert failed_after < 1.5 and recovered_in < 1.0, (failed_after, recovered_in)
    assert stats["size"] >= 1
    print(
        f"\nkilled mid-query: OperationalError {failed_after:.3f}s after the query started; "
        f"next query on a fresh connection in {recovered_in:.3f}s"
    )


async def test_killed_backend_during_async_for(pg: str, faults: None) -> None:
    marker = "asyncorm-fault-kill-iterate"

    async def iterate() -> list[Any]:
        return [tag async for tag in slow_tags(pg, 2, marker)]

    error = await kill_during(iterate, marker)
    assert type(error) is OperationalError
    names = [tag.name async for tag in Tag.objects.using(pg).order_by("name")]
    assert names == ["essay", "kids", "noir", "poetry", "sf"]
    await settled(pg)


async def test_killed_backend_between_two_chunks_of_aiterator(pg: str, faults: None) -> None:
    with override_settings(ASYNCORM_NATIVE={"POOL": {**POOL, "max_size": 1}}):
        pid = await native_pid(pg)  # the only connection: the one the iterator gets
        iterator = Book.objects.using(pg).order_by("pk").aiterator(chunk_size=1)
        first = await anext(iterator)
        await terminate({pid})
        with pytest.raises(OperationalError):
            async for _ in iterator:
                pass
        await settled(pg)  # the lease is back (the pool replaces the dead connection)
        assert await native_pid(pg) != pid
        assert (await Book.objects.using(pg).order_by("pk").afirst()).pk == first.pk
        await settled(pg)
        await asyncorm_native.close_pools()


async def test_killed_backend_inside_atomic_rolls_back(pg: str, faults: None) -> None:
    marker = "asyncorm-fault-kill-atomic"
    before = await Tally.objects.using(pg).acount()

    async def block() -> None:
        async with atomic(using=pg):
            await Tally.objects.using(pg).acreate(name="killed")
            await slow_tags(pg, 2, marker).aget(name="sf")

    error = await kill_during(block, marker)
    assert type(error) is OperationalError
    assert str(error) == "terminating connection due to administrator command"
    assert await Tally.objects.using(pg).acount() == before
    await settled(pg)
    async with atomic(using=pg):  # a new block, on a fresh connection, commits
        await Tally.objects.using(pg).acreate(name="kept")
    assert await Tally.objects.using(pg).filter(name="kept").adelete() == (1, {"zoo.Tally": 1})


async def test_idle_connections_killed_are_replaced_silently(pg: str, faults: None) -> None:
    """Idle pool connections the server closed are detected when taken, not used."""
    await asyncio.gather(*(slow_tags(pg, 0.2).aget(name="sf") for _ in range(POOL["max_size"])))
    stats = await settled(pg)
    assert stats["size"] == POOL["max_size"]
    dead = await pool_pids(pg)
    await terminate(dead)
    await asyncio.sleep(0.1)  # the server has closed them
    counts = await asyncio.gather(*(Tag.objects.using(pg).acount() for _ in range(8)))
    assert counts == [5] * 8  # no query met a dead connection
    assert not dead & await pool_pids(pg)
    await settled(pg)


# --- 2. The pool exhausted --------------------------------------------------------------------


async def test_exhausted_pool_names_the_settings_to_change(
    db_alias: str, zoo: set[str], native: None
) -> None:
    alias = db_alias
    entered = asyncio.Event()
    leave = asyncio.Event()
    holders = 0

    async def hold() -> None:
        nonlocal holders
        async with atomic(using=alias):
            await Tag.objects.using(alias).acount()
            holders += 1
            if holders == 2:
                entered.set()
            await leave.wait()

    with override_settings(
        ASYNCORM_NATIVE={"POOL": {"min_size": 1, "max_size": 2, "timeout": 0.5}}
    ):
        tasks = [asyncio.create_task(hold()) for _ in range(2)]
        await asyncio.wait_for(entered.wait(), 5)
        started = time.monotonic()
        with pytest.raises(PoolTimeout) as caught:
            await Tag.objects.using(alias).acount()
        waited = time.monotonic() - started
        leave.set()
        await asyncio.gather(*tasks)
        assert await Tag.objects.using(alias).acount() == 5  # served again
        await settled(alias)
        await asyncorm_native.close_pools()
    assert isinstance(caught.value, OperationalError)
    message = str(caught.value)
    assert f"no connection from the {alias!r} pool within 0.5s" in message
    assert f"ASYNCORM_NATIVE['POOLS'][{alias!r}]['max_size'] (now 2)" in message
    assert f"ASYNCORM_NATIVE['POOLS'][{alias!r}]['timeout'] (now 0.5)" in message
    assert 0.45 < waited < 1.5, waited


@pytest.mark.parametrize("min_size", [1, 0], ids=["opening", "acquiring"])
async def test_unreachable_server_says_so(
    pg: str, min_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the pool cannot connect, the timeout error carries the connection error."""
    from asyncorm_native.drivers.postgres import PostgresPool

    with socket_nobody_listens_on() as port:
        monkeypatch.setitem(connections[pg].settings_dict, "PORT", str(port))
        pool = PostgresPool(pg, {"min_size": min_size, "max_size": 2, "timeout": 1.0})
        monkeypatch.undo()
        with pytest.raises(PoolTimeout) as caught:
            await pool.open()  # with min_size=0, it waits in acquire() for a connection
    message = str(caught.value)
    assert isinstance(caught.value, OperationalError)
    assert "connecting to the database failed (connection failed:" in message, message
    assert f"DATABASES[{pg!r}]" in message
    assert f"ASYNCORM_NATIVE['POOLS'][{pg!r}]['timeout'] (now 1)" in message
    assert isinstance(caught.value.connect_error, psycopg.OperationalError)


async def test_full_waiting_queue_names_the_setting(pg: str, native: None) -> None:
    options = {"min_size": 1, "max_size": 1, "timeout": 5, "max_waiting": 1}
    with override_settings(ASYNCORM_NATIVE={"POOL": options}):
        holder = asyncio.create_task(slow_tags(pg, 0.5).aget(name="sf"))
        await asyncio.sleep(0.1)
        waiter = asyncio.create_task(Tag.objects.using(pg).acount())
        await asyncio.sleep(0.1)
        with pytest.raises(PoolQueueFull) as caught:
            await Tag.objects.using(pg).acount()
        assert (await holder).name == "sf" and await waiter == 5
        await asyncorm_native.close_pools()
    assert isinstance(caught.value, OperationalError)
    assert f"ASYNCORM_NATIVE['POOLS'][{pg!r}]['max_waiting'] (now 1)" in str(caught.value)


@contextlib.contextmanager
def socket_nobody_listens_on() -> Iterator[int]:
    """A local port that refuses connections (bound, never listening)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# --- 3. Cancellation storms -------------------------------------------------------------------

STORM_TASKS = 1000
STORM_SEED = 20240611
STORM_CANCELLED = 0.7  # the share of tasks cancelled...
STORM_WINDOW = 0.5  # ...at a random point of the first STORM_WINDOW seconds


async def test_cancelled_atomic_block_rolls_back(
    db_alias: str, zoo: set[str], native: None
) -> None:
    alias = db_alias
    marker = "asyncorm-fault-cancel-atomic"
    with override_settings(ASYNCORM_NATIVE={"POOL": POOL}):
        before = await Tally.objects.using(alias).acount()
        inside = asyncio.Event()

        async def block() -> None:
            async with atomic(using=alias):
                await Tally.objects.using(alias).acreate(name="cancelled")
                inside.set()
                await slow_tags(alias, 3, marker).aget(name="sf")

        task = asyncio.create_task(block())
        await inside.wait()
        await asyncio.sleep(0.2)  # in the middle of the slow query
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 1.0
        await settled(alias)
        assert await Tally.objects.using(alias).acount() == before
        if alias == "postgres":
            states = await backends(alias)
            pool_states = {states.get(pid) for pid in await pool_pids(alias)}
            assert pool_states == {"idle"}, states
        await asyncorm_native.close_pools()


def storm_call(alias: str, kind: str, i: int) -> Callable[[], Awaitable[Any]]:
    """One of the native calls the storm runs."""
    tags = Tag.objects.using(alias)
    books = Book.objects.using(alias)
    pause = 0.02 if alias == "postgres" else 0.002  # SQLite's slow query burns CPU

    async def get() -> Any:
        return await tags.aget(name="sf")

    async def count() -> Any:
        return await books.filter(pages__gt=i % 300).acount()

    async def iterate() -> Any:
        return [book async for book in books.select_related("author")]

    async def stream() -> Any:
        async with contextlib.aclosing(books.order_by("pk").aiterator(chunk_size=2)) as rows:
            return [book async for book in rows][:3]

    async def slow() -> Any:
        return await slow_tags(alias, pause).aget(name="sf")

    async def block() -> Any:
        try:
            async with atomic(using=alias):
                if alias == "postgres":  # SQLite: concurrent writers would wait on its lock
                    await Tally.objects.using(alias).acreate(name=f"storm {i}")
                async with atomic(using=alias):
                    await tags.acount()
                await slow_tags(alias, pause / 2).aget(name="sf")
                raise Rollback
        except Rollback:
            return "rolled back"

    return {"get": get, "count": count, "iterate": iterate, "stream": stream,
            "slow": slow, "block": block}[kind]  # fmt: skip


async def test_cancellation_storm_leaks_nothing(db_alias: str, zoo: set[str], native: None) -> None:
    """1,000 native calls cancelled at random points: every connection back, nothing left open."""
    alias = db_alias
    postgres = alias == "postgres"
    rng = random.Random(STORM_SEED)
    kinds = ["get", "count", "iterate", "stream", "slow", "block"]
    with override_settings(ASYNCORM_NATIVE={"POOL": {"min_size": 2, "max_size": 8, "timeout": 30}}):
        await Tag.objects.using(alias).acount()
        baseline = set(await backends(alias)) - await pool_pids(alias) if postgres else set()
        tallies = await Tally.objects.using(alias).acount()
        loop = asyncio.get_running_loop()
        calls = [rng.choice(kinds) for _ in range(STORM_TASKS)]
        started = time.monotonic()
        tasks = []
        for i, kind in enumerate(calls):
            tasks.append(asyncio.create_task(storm_call(alias, kind, i)()))
            if rng.random() < STORM_CANCELLED:
                loop.call_later(rng.uniform(0, STORM_WINDOW), tasks[-1].cancel)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.monotonic() - started
        errors = [
            (kind, r) for kind, r in zip(calls, results, strict=True) if isinstance(r, Exception)
        ]
        assert not errors, errors[:5]
        outcomes = Counter(
            "cancelled" if isinstance(r, asyncio.CancelledError) else "done" for r in results
        )
        assert outcomes["cancelled"] > 100 and outcomes["done"] > 100, outcomes
        stats = await settled(alias)
        assert await Tally.objects.using(alias).acount() == tallies  # every block rolled back
        if postgres:
            ours = await pool_pids(alias)
            assert len(ours) == stats["size"]
            now = await wait_for_backends(alias, baseline | ours)
            assert {now[pid] for pid in ours} == {"idle"}, now
        await asyncorm_native.close_pools()
        if postgres:
            await wait_for_backends(alias, baseline)
    sessions = ""
    if postgres:
        sessions = (
            f"; test database sessions: {len(baseline)} others + {len(ours)} pooled (all idle), "
            f"{len(baseline)} after close_pools()"
        )
    print(f"\nstorm on {alias}: {dict(outcomes)} in {elapsed:.2f}s; pool after: {stats}{sessions}")


async def wait_for_backends(alias: str, expected: set[int], timeout: float = 5.0) -> dict[int, str]:
    """The test database's sessions, once they are exactly ``expected`` (fails otherwise)."""
    deadline = time.monotonic() + timeout
    while True:
        now = await backends(alias)
        if set(now) == expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert set(now) == expected, (now, expected)
    return now


# --- 4. The server restarted -------------------------------------------------------------------

RESTART_RECOVERY = 8.0  # seconds after the restart within which native queries succeed again


def cluster_for(port: str) -> tuple[str, str] | str:
    """(version, name) of the local cluster on ``port``, or why it cannot be restarted."""
    if os.environ.get("ASYNCORM_SKIP_PG_RESTART"):
        return "ASYNCORM_SKIP_PG_RESTART is set"
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None:
        return "pg_ctlcluster/pg_lsclusters not found (Debian's postgresql-common)"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "restarting PostgreSQL needs root"
    if connections["postgres"].settings_dict["HOST"] not in ("127.0.0.1", "localhost", "::1"):
        return "PostgreSQL is not local"
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    ).stdout
    for line in listing.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == str(port):
            return version, name
    return f"no local cluster on port {port}"


def ensure_running(version: str, name: str) -> None:
    """Start the cluster if it is down, and wait until it accepts connections."""
    cfg = connections["postgres"].settings_dict
    status = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "status"],
        capture_output=True,
        check=False,
    )
    if status.returncode != 0:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"], check=False
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(
                dbname="postgres", user=cfg["USER"], host=cfg["HOST"], port=cfg["PORT"]
            ).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def restartable(pg: str) -> Iterator[tuple[str, str]]:
    """The cluster to restart; afterwards it runs, and Django's dead connections are closed."""
    cluster = cluster_for(connections[pg].settings_dict["PORT"])
    if isinstance(cluster, str):
        pytest.skip(f"cannot restart PostgreSQL: {cluster}")
    try:
        yield cluster
    finally:
        ensure_running(*cluster)
        connections.close_all()  # this thread's and stock a-methods' thread's
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()


async def test_server_restart(pg: str, restartable: tuple[str, str], faults: None) -> None:
    """Queries in flight fail with OperationalError; then the pool reconnects by itself.

    Three tasks query all along the restart, and a probe tries plain connections
    to time the server's own outage.
    """
    version, name = restartable
    marker = "asyncorm-fault-restart"
    await asyncio.gather(*(slow_tags(pg, 0.1).aget(name="sf") for _ in range(POOL["max_size"])))
    in_flight = asyncio.create_task(slow_tags(pg, 5, marker).aget(name="sf"))
    async with admin() as conn:
        while not await (
            await conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                " AND query LIKE %s",
                [connections[pg].settings_dict["NAME"], f"%{marker}%"],
            )
        ).fetchone():
            await asyncio.sleep(0.01)

    queries: list[tuple[float, float, str]] = []  # (start, end, outcome)
    probes: list[tuple[float, bool]] = []
    stop = asyncio.Event()

    async def load() -> None:
        while not stop.is_set():
            began = time.monotonic()
            try:
                await Tag.objects.using(pg).acount()
                outcome = "ok"
            except Exception as exc:
                outcome = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
            queries.append((began, time.monotonic(), outcome))
            await asyncio.sleep(0.02)

    async def probe() -> None:
        while not stop.is_set():
            try:
                async with admin():
                    probes.append((time.monotonic(), True))
            except psycopg.OperationalError:
                probes.append((time.monotonic(), False))
            await asyncio.sleep(0.05)

    workers = [asyncio.create_task(load()) for _ in range(3)] + [asyncio.create_task(probe())]
    started = time.monotonic()
    restart = await asyncio.create_subprocess_exec(
        "pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await restart.communicate()
    restarted = time.monotonic()
    assert restart.returncode == 0, stderr.decode()
    with pytest.raises(OperationalError) as caught:
        await in_flight
    assert str(caught.value) == "terminating connection due to administrator command"
    deadline = restarted + RESTART_RECOVERY
    while time.monotonic() < deadline and not any(
        end > restarted and outcome == "ok" for _, end, outcome in queries
    ):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*workers)

    failures = [outcome for _, _, outcome in queries if outcome != "ok"]
    assert all(
        outcome.startswith(("django.db.utils.OperationalError", "asyncorm_native.errors."))
        for outcome in failures
    ), failures
    down = min((at for at, ok in probes if not ok), default=None)
    up = min((at for at, ok in probes if ok and down is not None and at > down), default=None)
    recovered = min(
        (end for _, end, outcome in queries if outcome == "ok" and end > (up or restarted)),
        default=None,
    )
    assert recovered is not None, f"no native query succeeded {RESTART_RECOVERY}s after restart"
    counts = await asyncio.gather(*(Tag.objects.using(pg).acount() for _ in range(10)))
    assert counts == [5] * 10
    stats = await settled(pg)
    assert len(await pool_pids(pg)) == stats["size"]
    outage = f"{down - started:.2f}s to {up - started:.2f}s" if down and up else "not seen"
    longest = max(end - began for began, end, _ in queries)
    kinds = Counter(failure.split(":")[0] for failure in failures)
    print(
        f"\nrestart: pg_ctlcluster took {restarted - started:.2f}s; server refused connections "
        f"from {outage}; first native success after it at {recovered - started:.2f}s; "
        f"{len(failures)} of {len(queries)} queries failed ({dict(kinds)}); "
        f"longest query {longest:.2f}s; pool after: {stats}"
    )
