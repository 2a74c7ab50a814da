"""Benchmark the native read path: Django's stock a-methods vs the shim vs raw psycopg.

    .venv/bin/python bench/native_reads.py [--repeat 5] [--pool-size 20] [--client-binding]

Needs the local PostgreSQL server (settings in ``bench/settings.py``); creates
and drops its own database. Three scenarios, three columns each, one process:

1. 50 concurrent requests, each running 20 sequential ``aget(pk=...)``.
2. One request gathering 20 ``aget()`` whose row takes 5 ms in the server
   (an annotation ``(SELECT 1 FROM pg_sleep(0.005))``).
3. 20 concurrent requests, each ``async for`` over 1,000 rows.

*stock* is Django's a-methods (``sync_to_async``), *shim* is
``asyncorm_native.install()``, *raw* is a psycopg 3 ``AsyncConnectionPool``
(psycopg's defaults) running the very SQL the shim runs (checked) and fetching
the rows, without building model instances. Both pools have the same size.
Django is configured as psycopg's defaults are (server-side binding, statements
prepared after 5 executions); ``--client-binding`` uses Django's own defaults
instead, and the raw pool then uses client-side binding without prepared
statements too. Each scenario runs ``--repeat`` times per column (columns in
rotating order); the table shows medians and the ratios of medians.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import decimal
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.native_common import Bars, PoolBench, main  # noqa: E402

BARS: Bars = {  # scenario -> (min stock-time/shim-time, min raw-time/shim-time)
    "1. 50 x 20 sequential aget": (2.5, 0.8),
    "2. gather 20 x 5 ms queries": (6.0, 0.8),
    "3. 20 x async for 1,000 rows": (None, 0.8),
}


class Bench(PoolBench):
    def __init__(self, args: argparse.Namespace) -> None:
        from bench.benchapp.models import Article

        super().__init__(args)
        self.Article = Article
        self.pks: list[int] = []
        self.shim_sql: set[str] = set()

    def load(self) -> None:
        published = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
        self.Article.objects.bulk_create(
            self.Article(
                title=f"article {i}",
                score=i,
                price=decimal.Decimal(i) / 4,
                published=published + datetime.timedelta(minutes=i),
            )
            for i in range(1000)
        )
        self.pks = list(self.Article.objects.order_by("pk").values_list("pk", flat=True))

    # --- the querysets, and the SQL each compiles to ---------------------------------
    def get_qs(self) -> Any:
        return self.Article.objects.all()

    def sleep_qs(self) -> Any:
        from django.db.models import IntegerField
        from django.db.models.expressions import RawSQL

        return self.Article.objects.annotate(
            slept=RawSQL("(SELECT 1 FROM pg_sleep(0.005))", (), output_field=IntegerField())
        )

    @staticmethod
    def get_sql(qs: Any) -> str:
        """The SQL of ``qs.get(pk=...)``, as Django's get() builds it."""
        clone = qs.filter(pk=0).order_by()
        clone.query.set_limits(high=21)
        return clone.query.get_compiler(clone.db).as_sql()[0]

    # --- scenario bodies, per column --------------------------------------------------
    async def s1_orm(self) -> None:
        pks = self.pks

        async def request(i: int) -> None:
            for j in range(20):
                await self.get_qs().aget(pk=pks[(i * 20 + j) % len(pks)])

        await asyncio.gather(*(request(i) for i in range(50)))

    async def s1_raw(self) -> None:
        sql, pks = self.get_sql(self.get_qs()), self.pks

        async def request(i: int) -> None:
            for j in range(20):
                async with self.raw_pool.connection() as conn:
                    cursor = await conn.execute(sql, (pks[(i * 20 + j) % len(pks)],))
                    await cursor.fetchall()

        await asyncio.gather(*(request(i) for i in range(50)))

    async def s2_orm(self) -> None:
        await asyncio.gather(*(self.sleep_qs().aget(pk=pk) for pk in self.pks[:20]))

    async def s2_raw(self) -> None:
        sql = self.get_sql(self.sleep_qs())

        async def one(pk: int) -> None:
            async with self.raw_pool.connection() as conn:
                await (await conn.execute(sql, (pk,))).fetchall()

        await asyncio.gather(*(one(pk) for pk in self.pks[:20]))

    async def s3_orm(self) -> None:
        async def request() -> None:
            rows = [article async for article in self.Article.objects.all()]
            assert len(rows) == 1000

        await asyncio.gather(*(request() for _ in range(20)))

    async def s3_raw(self) -> None:
        sql = self.Article.objects.all().query.get_compiler("default").as_sql()[0]

        async def request() -> None:
            async with self.raw_pool.connection() as conn:
                rows = await (await conn.execute(sql, ())).fetchall()
                assert len(rows) == 1000

        await asyncio.gather(*(request() for _ in range(20)))

    # --- running ------------------------------------------------------------------------
    async def check_same_sql(self, scenarios: dict[str, tuple[Any, Any]]) -> None:
        """Record the SQL the shim runs in each scenario: the raw column must run the same."""
        import asyncorm_native
        from asyncorm_native.drivers import postgres

        original = postgres.PostgresLease.execute

        async def recording(lease: Any, step: Any) -> Any:
            self.shim_sql.add(step.sql)
            return await original(lease, step)

        postgres.PostgresLease.execute = recording  # type: ignore[method-assign]
        asyncorm_native.install()
        try:
            for orm, _raw in scenarios.values():
                await orm()
        finally:
            postgres.PostgresLease.execute = original  # type: ignore[method-assign]
            asyncorm_native.uninstall()
        expected = {
            self.get_sql(self.get_qs()),
            self.get_sql(self.sleep_qs()),
            self.Article.objects.all().query.get_compiler("default").as_sql()[0],
        }
        if self.shim_sql != expected:
            raise SystemExit(
                f"the shim ran other SQL than the raw column:\n{self.shim_sql ^ expected}"
            )

    async def run(self) -> dict[str, dict[str, float]]:
        scenarios = {
            "1. 50 x 20 sequential aget": (self.s1_orm, self.s1_raw),
            "2. gather 20 x 5 ms queries": (self.s2_orm, self.s2_raw),
            "3. 20 x async for 1,000 rows": (self.s3_orm, self.s3_raw),
        }
        await self.open_raw_pool()
        await self.check_same_sql(scenarios)  # also warms the shim's pool
        return await self.measure(
            {
                title: {"stock": orm, "shim": orm, "raw": raw}
                for title, (orm, raw) in scenarios.items()
            }
        )


if __name__ == "__main__":
    raise SystemExit(main(__doc__, Bench, BARS))
