"""What the native benchmarks share: options, Django setup, the raw psycopg pool,
the timed columns and the report of ratios against their bars."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

Bars = dict[str, tuple[float | None, float]]  # scenario -> (min stock/shim, min raw/shim)


def parse_args(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per column (median)")
    parser.add_argument("--pool-size", type=int, default=20, help="both pools' size")
    parser.add_argument(
        "--client-binding",
        action="store_true",
        help="Django's default cursor (client-side binding, no prepared statements)",
    )
    args = parser.parse_args()
    if args.repeat < 1 or args.pool_size < 1:
        parser.error("--repeat and --pool-size must be at least 1")
    return args


def setup_django(args: argparse.Namespace) -> None:
    import django
    from django.conf import settings

    options = {} if args.client_binding else {"server_side_binding": True, "prepare_threshold": 5}
    settings.DATABASES["default"]["OPTIONS"] = options
    settings.ASYNCORM_NATIVE = {"POOL": {"min_size": args.pool_size, "max_size": args.pool_size}}
    django.setup()


async def timed(func: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await func()
    return time.perf_counter() - start


class PoolBench:
    """A benchmark's state: its options and the raw psycopg pool (the third column)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.raw_pool: Any = None

    def load(self) -> None:
        """Rows the scenarios need, before the event loop starts (none by default)."""

    async def run(self) -> dict[str, dict[str, float]]:
        raise NotImplementedError

    async def open_raw_pool(self) -> None:
        import psycopg
        from django.db import connections
        from psycopg_pool import AsyncConnectionPool

        cfg = connections["default"].settings_dict
        kwargs: dict[str, Any] = {
            "dbname": cfg["NAME"],
            "user": cfg["USER"],
            "host": cfg["HOST"],
            "port": cfg["PORT"],
            "autocommit": True,
        }
        if cfg["PASSWORD"]:
            kwargs["password"] = cfg["PASSWORD"]
        if self.args.client_binding:
            kwargs.update(cursor_factory=psycopg.AsyncClientCursor, prepare_threshold=None)
        size = self.args.pool_size
        self.raw_pool = AsyncConnectionPool(kwargs=kwargs, min_size=size, max_size=size, open=False)
        await self.raw_pool.open(wait=True)

    async def measure(
        self, scenarios: dict[str, dict[str, Callable[[], Awaitable[None]]]]
    ) -> dict[str, dict[str, float]]:
        """Each scenario's columns: one warm-up each, then ``--repeat`` runs in rotating
        order; the medians. Closes both pools and Django's connections at the end."""
        from asgiref.sync import sync_to_async
        from django.db import connections

        import asyncorm_native

        results: dict[str, dict[str, float]] = {}
        try:
            for title, bodies in scenarios.items():
                for name, body in bodies.items():  # warm-up: prepared statements, pools
                    await self.column(name, body)
                samples: dict[str, list[float]] = {name: [] for name in bodies}
                order = list(bodies)
                for rep in range(self.args.repeat):
                    for name in order[rep % 3 :] + order[: rep % 3]:
                        samples[name].append(await self.column(name, bodies[name]))
                results[title] = {name: statistics.median(s) for name, s in samples.items()}
                print(".", end="", flush=True)
        finally:
            await self.raw_pool.close()
            await asyncorm_native.close_pools()
            await sync_to_async(connections.close_all)()
        print()
        return results

    async def column(self, name: str, body: Callable[[], Awaitable[None]]) -> float:
        """Time ``body`` once as column ``name``: the shim installed only for "shim"."""
        import asyncorm_native

        if name == "stock":
            asyncorm_native.uninstall()
        elif name == "shim":
            asyncorm_native.install()
        try:
            return await timed(body)
        finally:
            asyncorm_native.uninstall()


def report(results: dict[str, dict[str, float]], args: argparse.Namespace, bars: Bars) -> bool:
    mode = "client-side binding" if args.client_binding else "server-side binding, prepared"
    print(f"median of {args.repeat} runs, pools of {args.pool_size}, psycopg {mode}")
    header = (
        f"{'scenario':<32}{'stock':>10}{'shim':>10}{'raw':>10}"
        f"  {'shim vs stock':>14}  {'vs raw':>7}"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    for title, times in results.items():
        speedup = times["stock"] / times["shim"]
        vs_raw = times["raw"] / times["shim"]
        stock_bar, raw_bar = bars[title]
        marks = []
        if stock_bar is not None:
            ok = speedup >= stock_bar
            all_met &= ok
            marks.append(f"{'ok' if ok else 'MISS'} >= {stock_bar}x stock")
        ok = vs_raw >= raw_bar
        all_met &= ok
        marks.append(f"{'ok' if ok else 'MISS'} >= {raw_bar}x raw")
        print(
            f"{title:<32}{times['stock'] * 1e3:>8.1f}ms{times['shim'] * 1e3:>8.1f}ms"
            f"{times['raw'] * 1e3:>8.1f}ms  {speedup:>13.2f}x  {vs_raw:>6.2f}x   "
            + "; ".join(marks)
        )
    return all_met


def main(doc: str, make_bench: Callable[[argparse.Namespace], PoolBench], bars: Bars) -> int:
    """Parse options, create and drop the bench database around the run, print the table."""
    args = parse_args(doc)
    setup_django(args)
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        bench = make_bench(args)
        bench.load()
        results = asyncio.run(bench.run())
    finally:
        teardown_databases(old, verbosity=0)
    report(results, args, bars)
    return 0
