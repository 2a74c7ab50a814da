"""Where the time of one native read goes: CPU per operation, one task, no concurrency.

    .venv/bin/python bench/native_profile.py [--rounds 7] [--client-binding]

Needs the local PostgreSQL server (``bench/settings.py``, the same database setup as
``bench/native_reads.py``). Each line is the median over ``--rounds`` rounds of the
CPU time (``time.process_time``) per operation of a sequential loop; wall time is
shown too. The numbers explain ``native_reads.py``'s ratios (docs/native.md):

* ``aget`` parts: what Django's ``get()`` costs in CPU without I/O (building the
  filter, compiling, building the instance), what the shim's cached path costs
  without I/O, the raw psycopg round trip (psycopg's defaults, then with Django's
  adapters map), the shim's driver round trip, and the shim's whole ``aget``.
* ``async for`` over 1,000 rows: raw fetching, Django's ``Model.from_db`` alone on
  the fetched rows, Django's ``ModelIterable`` on them, and the shim's whole loop;
  from these, the best ratio to raw psycopg any code returning Django instances
  can reach.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds per line (median)")
    parser.add_argument("--client-binding", action="store_true", help="Django's default cursor")
    return parser.parse_args()


class Profile:
    def __init__(self, args: argparse.Namespace) -> None:
        from bench.benchapp.models import Article
        from bench.native_reads import Bench

        self.args = args
        self.Article = Article
        self.bench = Bench(argparse.Namespace(client_binding=args.client_binding, pool_size=2))
        self.lines: list[tuple[str, float, float]] = []

    async def measure(
        self, label: str, body: Callable[[int], Awaitable[None]] | Callable[[int], None], n: int
    ) -> float:
        """Median CPU µs per operation of ``body(n)`` (async or not), over the rounds."""

        async def run(count: int) -> None:
            result = body(count)
            if asyncio.iscoroutine(result):
                await result

        await run(max(1, n // 10))  # warm: pools, prepared statements, statement cache
        cpu, wall = [], []
        for _ in range(self.args.rounds):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            await run(n)
            cpu.append((time.process_time() - start_cpu) / n * 1e6)
            wall.append((time.perf_counter() - start_wall) / n * 1e6)
        self.lines.append((label, statistics.median(cpu), statistics.median(wall)))
        return statistics.median(cpu)

    async def run(self) -> None:
        import psycopg
        from django.db import connections
        from psycopg_pool import AsyncConnectionPool

        import asyncorm_native
        from asyncorm_native import router
        from asyncorm_native.drivers import base
        from asyncorm_native.plans import queryset as plans
        from asyncorm_native.steps import Execute, Fetch

        try:
            from asyncorm_native.plans import statements
        except ImportError:  # before the statement cache
            statements = None

        Article, bench = self.Article, self.bench
        pks = bench.pks
        sql = bench.get_sql(bench.get_qs())
        all_sql = Article.objects.all().query.get_compiler("default").as_sql()[0]
        await bench.open_raw_pool()
        asyncorm_native.install()
        cfg = connections["default"].settings_dict
        django_params = connections["default"].get_connection_params()
        kwargs: dict[str, Any] = {
            "dbname": cfg["NAME"],
            "user": cfg["USER"],
            "host": cfg["HOST"],
            "port": cfg["PORT"],
            "autocommit": True,
            "context": django_params["context"],
            "prepare_threshold": django_params["prepare_threshold"],
        }
        if self.args.client_binding:
            kwargs["cursor_factory"] = psycopg.AsyncClientCursor
        django_pool = AsyncConnectionPool(kwargs=kwargs, min_size=1, max_size=1, open=False)
        await django_pool.open(wait=True)
        row = await Article.objects.aget(pk=pks[0])
        one_row = [tuple(getattr(row, f.attname) for f in Article._meta.concrete_fields)]

        # --- aget -----------------------------------------------------------------------
        class Lease:  # answers without I/O
            async def execute(self, step: Any) -> Any:
                return one_row

            async def release(self) -> None:
                pass

        async def no_io(alias: str) -> Any:
            return Lease()

        def drive(plan: Any) -> Any:
            coroutine = base.run(plan, no_io)
            try:
                coroutine.send(None)
            except StopIteration as stop:
                return stop.value
            raise RuntimeError("suspended")

        real_find = statements.find if statements else None

        def django_get(n: int) -> None:  # the miss path: Django's get() in full, no I/O
            if statements:
                statements.find = lambda key: None
            try:
                for i in range(n):
                    drive(plans.get(Article.objects.all(), (), {"pk": pks[i % 1000]}))
            finally:
                if statements:
                    statements.find = real_find

        def cached_get(n: int) -> None:
            for i in range(n):
                drive(plans.get(Article.objects.all(), (), {"pk": pks[i % 1000]}))

        async def raw(
            pool: Any, n: int, query: str, args: Callable[[int], tuple[Any, ...]]
        ) -> None:
            for i in range(n):
                async with pool.connection() as conn:
                    cursor = await conn.execute(query, args(i))
                    await cursor.fetchall()

        async def lease_round_trip(n: int) -> None:
            for i in range(n):
                lease = await router.acquire("default")
                try:
                    await lease.execute(Execute(sql, [pks[i % 1000]], Fetch.ALL, using="default"))
                finally:
                    await lease.release()

        async def shim_aget(n: int) -> None:
            for i in range(n):
                await Article.objects.all().aget(pk=pks[i % 1000])

        async def shim_aget_uncached(n: int) -> None:
            if statements:
                statements.find = lambda key: None
            try:
                await shim_aget(n)
            finally:
                if statements:
                    statements.find = real_find

        def by_pk(i: int) -> tuple[Any, ...]:
            return (pks[i % 1000],)

        n = 2000
        await self.measure(
            "aget: Django's get() path, no I/O (filter, compile, build)", django_get, n
        )
        if statements:
            await self.measure("aget: the shim's cached path, no I/O", cached_get, n)
        await self.measure(
            "aget: raw psycopg round trip (psycopg defaults)",
            lambda n: raw(bench.raw_pool, n, sql, by_pk),
            n,
        )
        await self.measure(
            "aget: raw psycopg round trip (Django's adapters map)",
            lambda n: raw(django_pool, n, sql, by_pk),
            n,
        )
        await self.measure("aget: the shim's driver round trip (lease)", lease_round_trip, n)
        if statements:
            await self.measure("aget: the shim, statement cache off", shim_aget_uncached, n)
        await self.measure("aget: the shim", shim_aget, n)

        # --- async for over 1,000 rows --------------------------------------------------
        from django.db.models.query import ModelIterable

        async with bench.raw_pool.connection() as conn:
            rows = await (await conn.execute(all_sql, ())).fetchall()
        async with django_pool.connection() as conn:
            django_rows = await (await conn.execute(all_sql, ())).fetchall()
        field_names = [f.attname for f in Article._meta.concrete_fields]
        from_db = Article.from_db

        def build_from_db(n: int) -> None:
            for _ in range(n):
                for values in django_rows:
                    from_db("default", field_names, values)

        compiler = Article.objects.all().query.get_compiler("default")
        compiler.as_sql()

        def build_iterable(n: int) -> None:
            from asyncorm_native.plans.rows import answering

            for _ in range(n):
                queryset = Article.objects.all()
                with answering(queryset.query, compiler, [django_rows]):
                    list(ModelIterable(queryset))

        async def shim_iter(n: int) -> None:
            for _ in range(n):
                assert len([a async for a in Article.objects.all()]) == 1000

        n = 20
        raw_fetch = await self.measure(
            "1,000 rows: raw psycopg fetch (psycopg defaults)",
            lambda n: raw(bench.raw_pool, n, all_sql, lambda i: ()),
            n,
        )
        await self.measure(
            "1,000 rows: raw psycopg fetch (Django's adapters map)",
            lambda n: raw(django_pool, n, all_sql, lambda i: ()),
            n,
        )
        pool = await router.acquire("default")
        await pool.release()
        await self.measure(
            "1,000 rows: the shim's driver fetch (lease)",
            lambda n: _lease_fetch(router, Execute, Fetch, all_sql, n),
            n,
        )
        only_from_db = await self.measure(
            "1,000 rows: Django's Model.from_db only, no I/O", build_from_db, n
        )
        iterable = await self.measure(
            "1,000 rows: Django's ModelIterable, no I/O", build_iterable, n
        )
        await self.measure("1,000 rows: the shim's async for", shim_iter, n)
        self.floor = (raw_fetch, only_from_db, iterable)
        self.rows = len(rows)

        await django_pool.close()
        await bench.raw_pool.close()
        await asyncorm_native.close_pools()

    def report(self) -> None:
        mode = "client-side binding" if self.args.client_binding else "server-side binding"
        print(f"CPU per operation, median of {self.args.rounds} rounds, psycopg {mode}")
        width = max(len(label) for label, _, _ in self.lines)
        print(f"{'operation':<{width}}  {'CPU µs':>10}  {'wall µs':>10}")
        for label, cpu, wall in self.lines:
            print(f"{label:<{width}}  {cpu:>10.1f}  {wall:>10.1f}")
        raw_fetch, only_from_db, iterable = self.floor
        print(
            f"\nasync for floor: raw fetch {raw_fetch:.0f} µs; Model.from_db alone "
            f"{only_from_db:.0f} µs for {self.rows} rows ({only_from_db / self.rows:.2f} µs a row);"
            f" even with fetching free of any cost beyond raw psycopg's, returning Django "
            f"instances reaches at most {raw_fetch / (raw_fetch + only_from_db):.2f}x raw "
            f"(with Django's ModelIterable: {raw_fetch / (raw_fetch + iterable):.2f}x)."
        )


async def _lease_fetch(router: Any, execute: Any, fetch: Any, sql: str, n: int) -> None:
    for _ in range(n):
        lease = await router.acquire("default")
        try:
            await lease.execute(execute(sql, (), fetch.ALL, using="default"))
        finally:
            await lease.release()


def main() -> int:
    from bench.native_common import setup_django

    args = parse_args()
    setup_django(argparse.Namespace(client_binding=args.client_binding, pool_size=2))
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        profile = Profile(args)
        profile.bench.load()
        asyncio.run(profile.run())
        connections.close_all()
    finally:
        teardown_databases(old, verbosity=0)
    profile.report()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
