"""Overhead of the runtime guard (warn mode) on a trivial async view. Not a test.

Serves ``async def view(request): return HttpResponse("ok")`` through Django's own ASGI
handler (``get_asgi_application()``), called in-process so that the server and the network
do not dilute the difference: the strictest setting for the guard. Blocks of requests
alternate between a handler without the guard (its hooks uninstalled) and one with
``AsyncORMGuardMiddleware`` in warn mode, all in the same run. Every request is timed; the
result is the ratio of the median latencies (robust to the other work on a shared machine).

    .venv/bin/python bench/guard_overhead.py [--requests 100] [--rounds 60]

Bar: the guard adds at most 5% per request (ratio <= 1.05).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

BAR = 1.05


async def view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("", view)]


def configure() -> None:
    settings.configure(
        DEBUG=True,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        DATABASES={},
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        ASYNCORM_GUARD={"mode": "warn"},
        LOGGING_CONFIG=None,
    )
    django.setup()


def make_app(guarded: bool) -> Any:
    from django.core.asgi import get_asgi_application

    from runtime_guard.install import uninstall

    if guarded:
        settings.MIDDLEWARE = ["runtime_guard.middleware.AsyncORMGuardMiddleware"]
    else:
        settings.MIDDLEWARE = []
        uninstall()
    return get_asgi_application()  # loading the middleware installs the guard's hooks


SCOPE = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
    "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("bench", 80),
}


async def serve(app: Any, requests: int, cpu: list[float] | None = None) -> list[float]:
    """Latency in seconds of each of ``requests`` sequential requests.

    Appends the process CPU time per request (all threads) to ``cpu`` when given.
    """
    statuses: list[int] = []
    latencies: list[float] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    cpu_start = time.process_time()
    for _ in range(requests):
        sent = False

        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(3600)  # no disconnect while the response is produced
            return {"type": "http.disconnect"}

        start = time.perf_counter()
        await app(dict(SCOPE), receive, send)
        latencies.append(time.perf_counter() - start)
    if cpu is not None:
        cpu.append((time.process_time() - cpu_start) / requests)
    assert statuses == [200] * requests, set(statuses)
    return latencies


async def run(requests: int, rounds: int) -> dict[str, Any]:
    """Alternate blocks of plain and guarded requests; compare median latencies."""
    plain: list[float] = []
    guarded: list[float] = []
    cpu: dict[bool, list[float]] = {False: [], True: []}
    ratios: list[float] = []
    for kind in (False, True):  # warm-up, both kinds
        await serve(make_app(kind), 100)
    for i in range(rounds):
        order = (False, True) if i % 2 == 0 else (True, False)
        block: dict[bool, list[float]] = {}
        for kind in order:
            app = make_app(kind)
            gc.collect()
            block[kind] = await serve(app, requests, cpu[kind])
        plain += block[False]
        guarded += block[True]
        ratios.append(statistics.median(block[True]) / statistics.median(block[False]))
    return {
        "plain_us": statistics.median(plain) * 1e6,
        "guarded_us": statistics.median(guarded) * 1e6,
        "ratio": statistics.median(guarded) / statistics.median(plain),
        "round_ratios": ratios,
        "plain_cpu_us": statistics.median(cpu[False]) * 1e6,
        "guarded_cpu_us": statistics.median(cpu[True]) * 1e6,
        "cpu_ratio": statistics.median(cpu[True]) / statistics.median(cpu[False]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="requests per block")
    parser.add_argument("--rounds", type=int, default=60, help="blocks per variant")
    args = parser.parse_args(argv)
    configure()
    result = asyncio.run(run(args.requests, args.rounds))
    n = args.requests * args.rounds
    print(f"{args.rounds} alternating blocks of {args.requests} requests per variant ({n} each)")
    print(f"without guard:     {result['plain_us']:.1f} us/request (median latency)")
    print(f"with guard (warn): {result['guarded_us']:.1f} us/request (median latency)")
    spread = sorted(result["round_ratios"])
    print(f"per-block ratios: min {spread[0]:.3f}, median {statistics.median(spread):.3f},"
          f" max {spread[-1]:.3f}")
    print(f"CPU time per request (all threads, median of blocks): without"
          f" {result['plain_cpu_us']:.1f} us, with {result['guarded_cpu_us']:.1f} us,"
          f" ratio {result['cpu_ratio']:.3f}")
    verdict = "OK" if result["ratio"] <= BAR else "OVER THE BAR"
    print(f"ratio (median latency, guarded / plain): {result['ratio']:.3f}"
          f"  bar <= {BAR:.2f}: {verdict}")
    return 0 if result["ratio"] <= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
