"""Overhead of the runtime guard (warn mode) on a trivial async view. Not a test.

The view is ``async def view(request): return HttpResponse("ok")`` behind Django's own ASGI
handler, once without the guard and once with ``AsyncORMGuardMiddleware`` in warn mode, in
the same run. Two measurements:

- in-process (the bar): the ASGI application called directly in one process, no server
  and no network to dilute the difference; blocks of 40 requests alternate between the two
  variants (the guard's hooks are uninstalled for the plain blocks), so both see the same
  machine load. Reported as latency and as CPU time per request; the bar is on CPU time,
  which, unlike latency, does not grow while other processes hold the CPU;
- served (end to end, for information): two uvicorn processes on 127.0.0.1, one per
  variant, running at the same time; a keep-alive HTTP client alternates requests between
  them. HTTP dilutes the difference, and two processes are never quite alike (their
  threads are scheduled differently), so this one can even come out below 1.

Every request is timed. Each round yields a ratio of median latencies (guarded / plain);
the result is the median over rounds (the machine is shared with other work).

    .venv/bin/python bench/guard_overhead.py [--pairs 400] [--rounds 15] [--skip-served]

Bar: the guard adds at most 5% per request (in-process CPU-time ratio <= 1.05).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

BAR = 1.05
HERE = Path(__file__).resolve().parent


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
    """Django's ASGI handler, with the guard (hooks installed) or without (hooks removed)."""
    from django.core.asgi import get_asgi_application

    from runtime_guard.install import uninstall

    if guarded:
        settings.MIDDLEWARE = ["runtime_guard.middleware.AsyncORMGuardMiddleware"]
    else:
        settings.MIDDLEWARE = []
        uninstall()
    return get_asgi_application()  # loading the middleware installs the guard's hooks


if __name__ == "guard_overhead" and "BENCH_GUARD" in os.environ:  # imported by uvicorn
    configure()
    application = make_app(os.environ["BENCH_GUARD"] == "1")


def ratio_of_medians(guarded: list[float], plain: list[float]) -> float:
    return statistics.median(guarded) / statistics.median(plain)


# --- served: two uvicorn processes ----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(guarded: bool) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {**os.environ, "BENCH_GUARD": "1" if guarded else "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "guard_overhead:application", "--app-dir", str(HERE),
         "--host", "127.0.0.1", "--port", str(port), "--loop", "asyncio", "--http", "h11",
         "--lifespan", "off", "--no-access-log", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise TimeoutError("uvicorn did not start")


def _get(conn: http.client.HTTPConnection) -> float:
    start = time.perf_counter()
    conn.request("GET", "/")
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200 or body != b"ok":
        raise RuntimeError(f"unexpected response {response.status} {body[:80]!r}")
    return elapsed


def served(pairs: int, rounds: int) -> list[float]:
    """Per-round ratios of median latency, guarded / plain, over HTTP."""
    servers = [_start_server(False), _start_server(True)]
    try:
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _, port in servers]
        for _ in range(200):  # warm-up
            for conn in conns:
                _get(conn)
        ratios = []
        for _ in range(rounds):
            times: list[list[float]] = [[], []]
            for i in range(pairs):
                order = (0, 1) if i % 2 == 0 else (1, 0)
                for which in order:
                    times[which].append(_get(conns[which]))
            ratios.append(ratio_of_medians(times[1], times[0]))
        for conn in conns:
            conn.close()
        return ratios
    finally:
        for proc, _ in servers:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- in-process: the ASGI application called directly -------------------------------------
SCOPE = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
    "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("bench", 80),
}


async def serve_inprocess(app: Any, requests: int) -> list[float]:
    """Latency of each of ``requests`` sequential requests."""
    statuses: list[int] = []
    latencies: list[float] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

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
    if statuses != [200] * requests:
        raise RuntimeError(f"unexpected statuses {set(statuses)}")
    return latencies


async def inprocess(pairs: int, rounds: int, block: int = 40) -> dict[str, list[float]]:
    """Per-round ratios, guarded / plain, calling the ASGI app directly: of the median
    request latency, and of the median CPU time per request (the process's, all threads;
    unlike latency it does not grow while other work on the machine has the CPU)."""
    for guarded in (False, True):
        await serve_inprocess(make_app(guarded), 200)  # warm-up
    ratios: dict[str, list[float]] = {"latency": [], "cpu": []}
    for _ in range(rounds):
        latency: dict[bool, list[float]] = {False: [], True: []}
        cpu: dict[bool, list[float]] = {False: [], True: []}
        for i in range(max(pairs // block, 1)):
            for guarded in ((False, True) if i % 2 == 0 else (True, False)):
                app = make_app(guarded)
                cpu_start = time.process_time()
                latency[guarded] += await serve_inprocess(app, block)
                cpu[guarded].append((time.process_time() - cpu_start) / block)
        ratios["latency"].append(ratio_of_medians(latency[True], latency[False]))
        ratios["cpu"].append(ratio_of_medians(cpu[True], cpu[False]))
    return ratios


def _describe(name: str, ratios: list[float]) -> float:
    result = statistics.median(ratios)
    print(f"{name}: ratio guarded/plain = {result:.3f} (median of {len(ratios)} rounds;"
          f" rounds {' '.join(f'{r:.3f}' for r in ratios)})")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=400, help="request pairs per round")
    parser.add_argument("--rounds", type=int, default=15, help="rounds (the median is reported)")
    parser.add_argument("--skip-served", action="store_true", help="only the in-process run")
    args = parser.parse_args(argv)

    print(f"trivial async view, guard in warn mode; {args.rounds} rounds of {args.pairs}"
          " request pairs")
    if not args.skip_served:
        _describe("served (two uvicorn processes, HTTP keep-alive)",
                  served(args.pairs, args.rounds))
    configure()
    measured = asyncio.run(inprocess(args.pairs, args.rounds))
    _describe("in-process, latency (Django's ASGI handler called directly)", measured["latency"])
    ratio = _describe("in-process, CPU time per request", measured["cpu"])
    verdict = "OK" if ratio <= BAR else "OVER THE BAR"
    print(f"added time per request (in-process CPU time): {(ratio - 1) * 100:+.1f}%"
          f"  bar <= {(BAR - 1) * 100:.0f}%: {verdict}")
    return 0 if ratio <= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
