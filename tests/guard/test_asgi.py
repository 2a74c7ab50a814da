"""Django's own ASGI handler (``get_asgi_application()``) driven by httpx's ASGI transport:
the middleware, the ``guard()`` wrapper, and 50 concurrent requests in warn mode.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from django.core.asgi import get_asgi_application
from django.test.utils import override_settings

from runtime_guard.asgi import GuardedASGIApp, guard
from runtime_guard.reporting import AsyncORMGuardWarning
from tests.guard.conftest import Blog, RecordCollector, marked_line

HEADER = "x-asyncorm-guard"
PLAIN_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def counts(response: httpx.Response) -> dict[str, int]:
    return {k: int(v) for k, v in (p.split("=") for p in response.headers[HEADER].split())}


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_fifty_concurrent_requests_half_unsafe(
    blog: Blog, guard_settings, guard_log: RecordCollector
) -> None:
    """Every violation reported once, on the right request; no cross-talk; none lost."""
    app = get_asgi_application()
    kinds = {i: "unsafe" if i % 2 else "safe" for i in range(50)}
    paths = {i: f"/guard/concurrent/{i}/{kind}/" for i, kind in kinds.items()}
    with pytest.warns(AsyncORMGuardWarning) as warned:
        async with client_for(app) as client:
            responses = await asyncio.gather(*(client.get(p) for p in paths.values()))

    assert [r.status_code for r in responses] == [200] * 50
    for i, response in enumerate(responses):
        assert response.json() == {"i": i, "kind": kinds[i], "total": len(blog.articles)}
        seen = counts(response)
        assert seen["violations"] == (1 if kinds[i] == "unsafe" else 0), paths[i]
        assert seen["queries"] == 1, paths[i]  # its own COUNT(*), loop thread or worker

    unsafe_paths = {f"GET {p}" for i, p in paths.items() if kinds[i] == "unsafe"}
    violation_records = guard_log.of_kind("violation")
    assert sorted(r.request_path for r in violation_records) == sorted(unsafe_paths)
    line = marked_line("DJA101 concurrent")
    assert {(r.code, r.line, r.function, r.operation) for r in violation_records} == {
        ("DJA101", line, "concurrent", "QuerySet.count")
    }
    assert len({r.request_id for r in violation_records}) == 25

    summaries = {r.request_path: r for r in guard_log.of_kind("request")}
    assert set(summaries) == {f"GET {p}" for p in paths.values()}
    for path, summary in summaries.items():
        assert summary.violations == (1 if path in unsafe_paths else 0)
        assert summary.queries == 1
    assert {r.request_id for r in violation_records} == {
        summaries[p].request_id for p in unsafe_paths
    }
    assert len([w for w in warned if issubclass(w.category, AsyncORMGuardWarning)]) == 25


async def test_guard_wrapper_around_django_asgi(blog: Blog, guard_log: RecordCollector) -> None:
    """``guard(application)`` alone (no middleware): scope, records and header per request."""
    with override_settings(MIDDLEWARE=PLAIN_MIDDLEWARE, DEBUG=True,
                           ASYNCORM_GUARD={"mode": "warn", "header": True}):
        app = guard(get_asgi_application())
        assert isinstance(app, GuardedASGIApp)
        async with client_for(app) as client:
            with pytest.warns(AsyncORMGuardWarning):
                unsafe = await client.get(f"/guard/get/{blog.articles[0]}/?x=1")
            safe = await client.get("/guard/correct/")
    assert counts(unsafe)["violations"] == 1 and counts(safe)["violations"] == 0
    assert counts(safe)["queries"] == 2  # articles and count; no session cookie, no user query
    [record] = guard_log.of_kind("violation")
    assert record.request_path == f"GET /guard/get/{blog.articles[0]}/?x=1"
    assert record.line == marked_line("DJA101 get")


async def test_wrapper_and_middleware_share_one_scope(
    blog: Blog, guard_settings, guard_log: RecordCollector
) -> None:
    app = guard(get_asgi_application())
    async with client_for(app) as client:
        with pytest.warns(AsyncORMGuardWarning):
            response = await client.get(f"/guard/get/{blog.articles[0]}/")
    assert response.headers.get_list(HEADER) == [response.headers[HEADER]]  # one header
    assert len(guard_log.of_kind("violation")) == 1
    assert len(guard_log.of_kind("request")) == 1


async def test_wrapper_passes_lifespan_through() -> None:
    events: list[str] = []

    async def app(scope, receive, send) -> None:
        events.append(scope["type"])

    with override_settings(DEBUG=True):
        wrapped = guard(app)
    await wrapped({"type": "lifespan"}, None, None)
    assert events == ["lifespan"]


async def test_wrapper_steps_aside_when_debug_is_false(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope, receive, send) -> None:
        raise AssertionError("not called")

    with override_settings(DEBUG=False), caplog.at_level(logging.INFO, "runtime_guard"):
        assert guard(app) is app
        assert isinstance(guard(app, force=True), GuardedASGIApp)
    assert [r.getMessage() for r in caplog.records if "DEBUG is False" in r.getMessage()]


@pytest.mark.parametrize(
    ("url", "tag", "code", "operation"),
    [
        ("/guard/get/{pk}/", "DJA101 get", "DJA101", "QuerySet.get"),
        ("/guard/template/", "DJA208 render", "DJA208", "template rendering"),
        ("/guard/user/", "DJA501 user", "DJA501", "request.user"),
        ("/guard/lazy-fk/{pk}/", "DJA401 author", "DJA401", "lazy FK Article.author"),
        ("/guard/save/{pk}/", "DJA301 save", "DJA301", "Model.save"),
    ],
    ids=["get", "template", "request.user", "lazy-fk", "save"],
)
async def test_fixture_views_through_django_asgi_handler(
    blog: Blog, guard_settings, guard_log: RecordCollector, url, tag, code, operation
) -> None:
    """The same reports through ``get_asgi_application()`` (per-request thread contexts)."""
    path = url.format(pk=blog.articles[0])
    async with client_for(get_asgi_application()) as client:
        client.cookies.set("sessionid", blog.session_key)
        with pytest.warns(AsyncORMGuardWarning):
            response = await client.get(path)
    assert response.status_code == 200
    assert counts(response)["violations"] == 1
    [record] = guard_log.of_kind("violation")
    assert (record.code, record.line, record.operation) == (code, marked_line(tag), operation)
    assert record.request_path == f"GET {path}"


async def test_n_plus_one_through_django_asgi_handler(
    blog: Blog, guard_settings, guard_log: RecordCollector
) -> None:
    async with client_for(get_asgi_application()) as client:
        response = await client.get("/guard/n-plus-one/")
    assert counts(response) | {"hops": 0} == {
        "hops": 0, "queries": 1 + len(blog.articles), "blocked_ms": 0, "violations": 0,
        "n_plus_one": 1,
    }
    [record] = guard_log.of_kind("n_plus_one")
    assert record.count == len(blog.articles) and record.line == marked_line("N+1 author")
