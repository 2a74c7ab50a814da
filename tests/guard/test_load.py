"""Under load: 1,000 requests at concurrency 50 through a real uvicorn process with the guard
in warn mode, after a warm-up of 1,000. Every request is answered, every request's reports
are in the JSON-lines log (no more, no fewer), and the server's memory and the guard's
internal structures stay flat.

The mix, per 40 requests:

- 17 clean: a-methods, ``async for``, ``request.auser()``; no finding;
- 8 unsafe: ``Article.objects.get()`` on the loop. Warn mode lets the call run (Django's
  ``SynchronousOnlyOperation`` is not raised for it), so the view answers 200 with its data;
  one DJA101 record at the view's line, one Python warning;
- 4 unsafe from library code (a module in ``ignore_modules``): the same, without a user frame;
- 10 thread-hopping: ``sync_to_async`` ORM per article, 8 hops and one N+1 record;
- 1 blocking the loop (``time.sleep`` over the threshold): one DJG003 record.

Each request carries ``?n=<i>``, so its records (``request_path``) are told apart from every
other request's. The server (``tests/guard/load_settings.py``) is the fixture project plus
``tests/guard/load_views.py``: a stats view collects garbage and reports live objects, file
descriptors, threads and the guard's structures; the server's RSS is read from
``/proc/<pid>/status``.

Run it alone with ``-s`` to see the figures (requests/s, RSS before and after)::

    .venv/bin/pytest tests/guard/test_load.py -q -s
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.guard.conftest import marked_line
from tests.guard.served import (
    free_port,
    project_environment,
    read_records,
    rss_kb,
    start_uvicorn,
    stop,
    wait_until_listening,
)

LOAD = 1000
CONCURRENCY = 50
# Memory settles only once the server has run a long batch at this concurrency. Measured
# (RSS after gc.collect() and malloc_trim): five batches of 200 left it flat at 56 MB, the
# next batch of 1,000 raised it to 59.6 MB, the one after that to 59.9 MB. Objects of the 50
# requests in flight outlive the young collections and are freed by full ones only; the
# garbage piling up between two full collections grows with the batch and pins some of the
# allocator's pages for good. A warm-up of 200 would measure that, not a leak.
WARM_UP = 1000
MIX = ["clean"] * 17 + ["unsafe"] * 8 + ["unattributed"] * 4 + ["hop"] * 10 + ["slow"]
THRESHOLD_MS = 100  # the fixture project's slow_callback_ms
# A block is timed by the watchdog thread's samples, every 25 ms while the loop is late. Under
# this load the watchdog itself waits for a CPU and the GIL: gaps between its samples were
# 27 ms at the median, 76 ms at the 99th percentile, 133 ms at most (measured), and a block
# of 150 ms was once seen for less than the threshold. 250 ms is reported every time.
SLOW_MS = 250

# The server's environment for the memory figures. glibc gives each thread its own malloc
# arena (up to 8 per core) and keeps freed memory in each; Django serves each request's sync
# work on a new thread, so RSS drifts up by several kB per request for a while, with or
# without the guard. Two arenas keep that drift out of the measurement. The stats view also
# hands free memory back (``malloc_trim``) before RSS is read: a leak could otherwise fill
# the free lists left by the warm-up without moving RSS.
SERVER_ENV = {"MALLOC_ARENA_MAX": "2"}
# Every request on its own connection (``Connection: close``): uvicorn then sets no keep-alive
# timer, whose handle (even cancelled) would hold the request's context, with its database
# connections, for 5 s, and the object counts would depend on when they are taken.
SETTLE_S = 0.5  # for the last connections to close

# Memory bounds. A leaked guard record is about 0.7 kB (the Record, its message, its
# Location), a leaked scope 0.4 kB, a leaked request (HttpRequest, response, scope,
# records) tens of kB. What RSS still does without a leak, over 1,000 requests: -0.6 to
# +1.3 MB, +0.4 MB on average, in 17 runs (pages pinned by a few long-lived objects in the
# allocator's arenas). 2 kB per request (2 MB) stays above that and below a leak of the
# request's records. Smaller leaks (one dict entry or one tuple per request) show in the object
# count, flat to the object in the runs so far: garbage-collected objects may not grow by
# one per 20 requests (a leak of one object per request adds 1,000; one per unattributed
# request, 100).
MAX_RSS_GROWTH_PER_REQUEST_KB = 2.0
MAX_OBJECT_GROWTH_PER_REQUEST = 0.05


@dataclass
class Sent:
    """One request of the run and what came back."""

    n: int
    kind: str
    url: str
    label: str  # the guard's request_path for it
    status: int | None = None
    body: Any = None
    header: dict[str, int] | None = None
    error: str | None = None


def plan(start: int, count: int, pk: int) -> list[Sent]:
    urls = {
        "clean": "/guard/correct/?n={n}",
        "unsafe": f"/guard/get/{pk}/?n={{n}}",
        "unattributed": f"/load/unattributed/{pk}/?n={{n}}",
        "hop": "/guard/n-plus-one/?n={n}",
        "slow": f"/guard/slow/?ms={SLOW_MS}&n={{n}}",
    }
    out = []
    for n in range(start, start + count):
        kind = MIX[n % len(MIX)]
        url = urls[kind].format(n=n)
        out.append(Sent(n, kind, url, f"GET {url}"))
    return out


async def fire(base_url: str, session_key: str, requests: list[Sent]) -> float:
    """Send ``requests``, at most CONCURRENCY at a time; the wall time in seconds."""
    semaphore = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)

    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits,
                                 cookies={"sessionid": session_key}) as client:

        async def one(sent: Sent) -> None:
            async with semaphore:
                try:
                    response = await client.get(sent.url, headers={"Connection": "close"})
                except httpx.HTTPError as exc:
                    sent.error = repr(exc)
                    return
            sent.status = response.status_code
            if response.status_code == 200:
                sent.body = response.json()
                header = response.headers.get("x-asyncorm-guard", "")
                sent.header = {k: int(v) for k, v in (p.split("=") for p in header.split())}
            else:
                sent.body = response.text[:300]

        start = time.perf_counter()
        await asyncio.gather(*(one(s) for s in requests))
        return time.perf_counter() - start


def server_stats(base_url: str, pid: int, settle: float = SETTLE_S) -> dict[str, Any]:
    """The stats view's answer (after ``gc.collect()``), and the RSS seen from outside."""
    time.sleep(settle)
    response = httpx.get(f"{base_url}/load/stats/?trim=1", timeout=60)
    assert response.status_code == 200, response.text[:500]
    stats = response.json()
    stats["rss_kb_outside"] = rss_kb(pid)
    return stats


def check_answers(sent: list[Sent], seed: dict[str, Any]) -> None:
    failed = [(s.n, s.kind, s.status, s.error, s.body) for s in sent if s.status != 200]
    assert failed == [], f"{len(failed)} request(s) not answered 200: {failed[:5]}"
    articles = len(seed["articles"])
    for s in sent:
        body, header = s.body, s.header
        assert header is not None
        if s.kind == "clean":
            assert body["total"] == articles and body["user"] == seed["user"], s
            assert header["violations"] == 0 and header["n_plus_one"] == 0, s
        elif s.kind in ("unsafe", "unattributed"):  # the sync call ran (warn mode), counted
            assert body["title"].startswith("article-"), s
            assert header["violations"] == 1, s
        elif s.kind == "hop":
            assert len(body["authors"]) == articles, s
            assert header["violations"] == 0 and header["n_plus_one"] == 1, s
            assert header["hops"] >= articles, s
        else:
            assert body["slept_ms"] == SLOW_MS and header["violations"] == 0, s


def check_reports(sent: list[Sent], records: list[dict[str, Any]], seed: dict) -> None:
    """Each request's records are exactly the ones its view must produce."""
    articles = len(seed["articles"])
    get_line, sleep_line = marked_line("DJA101 get"), marked_line("blocked sleep")
    get = ("violation", "DJA101", get_line, "QuerySet.get", 1)
    unattributed = ("violation", "DJA101", None, "QuerySet.get", 1)
    n_plus_one = ("n_plus_one", "DJG002", marked_line("N+1 author"), "lazy FK Article.author",
                  articles)
    expected = {
        "clean": [],
        "unsafe": [get],
        "unattributed": [unattributed],
        "hop": [n_plus_one],
        "slow": [("blocked", "DJG003", sleep_line, "event loop blocked", 1)],
    }
    labels = {s.label: s for s in sent}
    findings: dict[str, list[tuple]] = defaultdict(list)
    summaries: dict[str, list[dict]] = defaultdict(list)
    author_hops: Counter[str] = Counter()
    for r in records:
        if r["request_path"] not in labels:
            continue  # the stats requests
        if r["kind"] == "request":
            summaries[r["request_path"]].append(r)
        elif r["kind"] == "hop":
            if r["operation"] == "sync_to_async(author_name)":
                assert (r["line"], r["queries"]) == (marked_line("hop author_name"), 1), r
                author_hops[r["request_path"]] += 1
        else:
            assert r["mode"] == "warn", r
            if r["kind"] == "blocked":
                assert r["duration_ms"] >= THRESHOLD_MS, r
            key = (r["kind"], r["code"], r["line"], r["operation"], r["count"])
            findings[r["request_path"]].append(key)

    # Under this load the loop thread shares the GIL with up to 50 worker threads, and now
    # and then one step of some request's task waits for it long enough to hold the loop
    # over the threshold: a true block, rightly reported (seen once in ~30 runs so far).
    # One such extra record per request at most, and few of them; everything else exact.
    wrong, extra_blocks = [], []
    for s in sent:
        found = sorted(findings[s.label])
        extra = [f for f in found if f[0] == "blocked" and f not in expected[s.kind]]
        if [f for f in found if f not in extra] != expected[s.kind] or len(extra) > 1:
            wrong.append((s.label, found))
        extra_blocks += [(s.label, f) for f in extra]
    assert wrong == [], f"{len(wrong)} request(s) with wrong findings: {wrong[:5]}"
    assert len(extra_blocks) <= len(sent) // 200, extra_blocks

    # one summary per request, from its own scope, counting its findings
    assert [s.label for s in sent if len(summaries[s.label]) != 1] == []
    assert len({r[0]["request_id"] for r in summaries.values()}) == len(sent)
    for label, [summary] in summaries.items():
        kind = labels[label].kind
        assert summary["violations"] == (kind in ("unsafe", "unattributed")), summary
        assert summary["n_plus_one"] == (kind == "hop"), summary
        if kind == "slow":  # the block was charged to the request before it ended
            assert summary["blocked_ms"] >= THRESHOLD_MS, summary
    hop_requests = [s.label for s in sent if s.kind == "hop"]
    assert all(author_hops[label] == articles for label in hop_requests)
    assert sum(author_hops.values()) == articles * len(hop_requests)


@pytest.fixture
def project_env(tmp_path: Path) -> dict[str, str]:
    env = project_environment(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "tests.guard.load_settings"
    return env


def test_thousand_requests_at_concurrency_50(
    project_env: dict[str, str], tmp_path: Path, record_property: Any
) -> None:
    seed = json.loads(project_env["SEED"])
    pk = seed["articles"][0]
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    warm_up, load = plan(0, WARM_UP, pk), plan(WARM_UP, LOAD, pk)
    stderr_path = tmp_path / "uvicorn.err"
    with stderr_path.open("w") as stderr:
        proc = start_uvicorn({**project_env, **SERVER_ENV}, port, stderr)
        try:
            wait_until_listening(port, proc)
            start = server_stats(base_url, proc.pid, settle=0)  # its first call makes objects
            asyncio.run(fire(base_url, seed["session_key"], warm_up))
            before = server_stats(base_url, proc.pid)
            seconds = asyncio.run(fire(base_url, seed["session_key"], load))
            after = server_stats(base_url, proc.pid)
        finally:
            exit_code = stop(proc)
    errors = stderr_path.read_text()
    # uvicorn re-raises SIGTERM after its graceful shutdown
    assert exit_code in (0, -signal.SIGTERM), errors[-2000:]
    assert "Finished server process" in errors and "Traceback" not in errors, errors[-2000:]

    rss_growth_kb = after["rss_kb_outside"] - before["rss_kb_outside"]
    figures = {
        "requests": LOAD,
        "concurrency": CONCURRENCY,
        "seconds": round(seconds, 2),
        "requests_per_s": round(LOAD / seconds, 1),
        "rss_start_kb": start["rss_kb_outside"],
        "rss_before_kb": before["rss_kb_outside"],
        "rss_after_kb": after["rss_kb_outside"],
        "rss_growth_per_request_kb": round(rss_growth_kb / LOAD, 3),
        "objects_before": before["objects"],
        "objects_after": after["objects"],
        "fds": [before["fds"], after["fds"]],
        "threads": [before["threads"], after["threads"]],
    }
    print("load figures:", json.dumps(figures))
    for key, value in figures.items():
        record_property(key, value)

    everything = warm_up + load
    check_answers(everything, seed)
    check_reports(everything, read_records(Path(project_env["GUARD_LOG_FILE"])), seed)
    # Warn mode's Python warning: one per unsafe request, on the server's stderr.
    unsafe = sum(s.kind in ("unsafe", "unattributed") for s in everything)
    assert errors.count("AsyncORMGuardWarning") == unsafe

    # Memory flat.
    assert rss_growth_kb / LOAD < MAX_RSS_GROWTH_PER_REQUEST_KB, figures
    object_growth = after["objects"] - before["objects"]
    grown = {t: n - before["types"].get(t, 0) for t, n in after["types"].items()
             if n - before["types"].get(t, 0) >= 10}
    assert object_growth / LOAD < MAX_OBJECT_GROWTH_PER_REQUEST, (object_growth, grown)
    assert after["fds"] <= before["fds"] and after["threads"] <= before["threads"], figures
    # The guard's own structures: nothing per request outlives its request. The stats
    # request itself is the one live scope (and its sync view the one live hop). The caches
    # (SQL shapes, code objects) are bounded by the code and queries, not by requests.
    guard, caches = dict(after["guard"]), ("shape_cache", "classifier_cache")
    assert {k: v for k, v in guard.items() if k not in caches} == {
        "active_scopes": 1, "live_scopes": 1, "live_records": 0, "live_hops": 1,
        "loop_states": 1, "leave_hooks": 1, "boundaries": before["guard"]["boundaries"],
        "warning_registry": 0,
    }, (before["guard"], guard)
    assert guard["classifier_cache"] - before["guard"]["classifier_cache"] < LOAD // 10
