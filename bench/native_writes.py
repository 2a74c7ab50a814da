"""Benchmark the native write path: Django's stock a-methods vs the shim vs raw psycopg.

    .venv/bin/python bench/native_writes.py [--repeat 5] [--pool-size 20] [--client-binding]

Needs the local PostgreSQL server (settings in ``bench/settings.py``); creates
and drops its own database. Two scenarios, three columns each, one process:

1. 50 concurrent requests, each ``acreate()`` + ``asave()`` + ``aupdate()``
   on its own row.
2. 20 concurrent requests, each running a 10-statement transaction
   (5 ``acreate()`` and 5 ``aupdate()``): stock runs Django's
   ``transaction.atomic()`` block inside ``sync_to_async``, the shim
   ``async with asyncorm_native.atomic()``, raw psycopg ``conn.transaction()``.

*stock* is Django's a-methods (``sync_to_async``), *shim* is
``asyncorm_native.install()``, *raw* is a psycopg 3 ``AsyncConnectionPool``
running the very statements the shim runs (checked) with the same parameters,
building no model instances. Both pools have the same size. Django is
configured as psycopg's defaults are (server-side binding, statements prepared
after 5 executions); ``--client-binding`` uses Django's own defaults, and the
raw pool then client-side binding too. Each scenario runs ``--repeat`` times
per column (columns in rotating order); the table shows medians and the ratios
of medians, measured in the same run.
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
    "1. 50 x acreate+asave+aupdate": (2.0, 0.7),
    "2. 20 x 10-statement atomic": (2.0, 0.7),
}
PUBLISHED = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


class Bench(PoolBench):
    def __init__(self, args: argparse.Namespace) -> None:
        from bench.benchapp.models import Article

        super().__init__(args)
        self.Article = Article
        self.sql: dict[str, str] = {}
        self.serial = 0

    def fields(self, i: int) -> dict[str, Any]:
        return {
            "title": f"w{i}",
            "score": i,
            "price": decimal.Decimal(i) / 4,
            "published": PUBLISHED + datetime.timedelta(minutes=i),
        }

    def next_ids(self, n: int) -> range:
        start = self.serial
        self.serial += n
        return range(start, start + n)

    # --- scenario 1: one row per request, three statements ---------------------------
    async def s1_orm(self) -> None:
        Article = self.Article

        async def request(i: int) -> None:
            obj = await Article.objects.acreate(**self.fields(i))
            obj.score += 1
            await obj.asave()
            await Article.objects.filter(pk=obj.pk).aupdate(price=decimal.Decimal("9.50"))

        await asyncio.gather(*(request(i) for i in self.next_ids(50)))

    async def s1_raw(self) -> None:
        insert, save, update = self.sql["insert"], self.sql["save"], self.sql["update"]

        async def request(i: int) -> None:
            f = self.fields(i)
            async with self.raw_pool.connection() as conn:
                row = await (
                    await conn.execute(insert, (f["title"], f["score"], f["price"], f["published"]))
                ).fetchone()
            async with self.raw_pool.connection() as conn:
                await conn.execute(
                    save, (f["title"], f["score"] + 1, f["price"], f["published"], row[0])
                )
            async with self.raw_pool.connection() as conn:
                await conn.execute(update, (decimal.Decimal("9.50"), row[0]))

        await asyncio.gather(*(request(i) for i in self.next_ids(50)))

    # --- scenario 2: a 10-statement transaction per request -----------------------------
    def block_sync(self, ids: range) -> None:
        from django.db import transaction

        with transaction.atomic():
            for i in ids:
                obj = self.Article.objects.create(**self.fields(i))
                self.Article.objects.filter(pk=obj.pk).update(price=decimal.Decimal("9.50"))

    async def s2_stock(self) -> None:
        from asgiref.sync import sync_to_async

        await asyncio.gather(*(sync_to_async(self.block_sync)(self.next_ids(5)) for _ in range(20)))

    async def s2_shim(self) -> None:
        import asyncorm_native

        Article = self.Article

        async def request(ids: range) -> None:
            async with asyncorm_native.atomic():
                for i in ids:
                    obj = await Article.objects.acreate(**self.fields(i))
                    await Article.objects.filter(pk=obj.pk).aupdate(price=decimal.Decimal("9.50"))

        await asyncio.gather(*(request(self.next_ids(5)) for _ in range(20)))

    async def s2_raw(self) -> None:
        insert, update = self.sql["insert"], self.sql["update"]

        async def request(ids: range) -> None:
            async with self.raw_pool.connection() as conn, conn.transaction():
                for i in ids:
                    f = self.fields(i)
                    row = await (
                        await conn.execute(
                            insert, (f["title"], f["score"], f["price"], f["published"])
                        )
                    ).fetchone()
                    await conn.execute(update, (decimal.Decimal("9.50"), row[0]))

        await asyncio.gather(*(request(self.next_ids(5)) for _ in range(20)))

    # --- running ------------------------------------------------------------------------
    async def record_shim_sql(self) -> None:
        """Run scenario 1 natively once, recording its statements: the raw column runs them."""
        import asyncorm_native
        from asyncorm_native.drivers import postgres

        seen: list[str] = []
        original = postgres.PostgresLease.execute

        async def recording(lease: Any, step: Any) -> Any:
            seen.append(step.sql)
            return await original(lease, step)

        postgres.PostgresLease.execute = recording  # type: ignore[method-assign]
        asyncorm_native.install()
        try:
            await self.s1_orm()
            await self.s2_shim()
        finally:
            postgres.PostgresLease.execute = original  # type: ignore[method-assign]
            asyncorm_native.uninstall()
        statements = set(seen)
        inserts = {s for s in statements if s.startswith("INSERT")}
        updates = {s for s in statements if s.startswith("UPDATE")}
        saves = {s for s in updates if '"title"' in s}
        price_updates = updates - saves
        expected_count = 3 * 50 + 20 * (2 + 10)  # scenario 2: BEGIN, COMMIT and 10 statements
        if len(inserts) != 1 or len(saves) != 1 or len(price_updates) != 1:
            raise SystemExit(f"unexpected statements from the shim: {sorted(statements)}")
        if len(seen) != expected_count or statements - inserts - updates != {"BEGIN", "COMMIT"}:
            raise SystemExit(f"the shim ran {len(seen)} statements, expected {expected_count}")
        self.sql = {"insert": inserts.pop(), "save": saves.pop(), "update": price_updates.pop()}

    async def run(self) -> dict[str, dict[str, float]]:
        await self.open_raw_pool()
        await self.record_shim_sql()  # also warms the shim's pool
        return await self.measure(
            {
                "1. 50 x acreate+asave+aupdate": {
                    "stock": self.s1_orm,
                    "shim": self.s1_orm,
                    "raw": self.s1_raw,
                },
                "2. 20 x 10-statement atomic": {
                    "stock": self.s2_stock,
                    "shim": self.s2_shim,
                    "raw": self.s2_raw,
                },
            }
        )


if __name__ == "__main__":
    raise SystemExit(main(__doc__, Bench, BARS))
