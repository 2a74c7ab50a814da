"""The fixture project's async views through Django's async handler (``AsyncClient``) with
``AsyncORMGuardMiddleware``, on SQLite and on PostgreSQL.

Each report is checked against the line marked ``# guard: ...`` in the fixture's views.py,
the operation, the DJA code and the replacement read from the fact table.
"""

from __future__ import annotations

import logging
import os
import warnings

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.test import AsyncClient

from asyncorm_lint.django_api import Kind, by_kind
from runtime_guard.reporting import AsyncORMGuardWarning
from runtime_guard.unsafe_orm import GuardSynchronousOnlyOperation
from tests.guard.conftest import Blog, RecordCollector, marked_line

HEADER = "X-AsyncORM-Guard"


def header(response) -> dict[str, int]:
    return {k: int(v) for k, v in (part.split("=") for part in response[HEADER].split())}


def violations(log: RecordCollector) -> list[logging.LogRecord]:
    return log.of_kind("violation")


async def logged_in(blog: Blog) -> AsyncClient:
    client = AsyncClient()
    client.cookies["sessionid"] = blog.session_key
    return client


async def test_correct_view_is_clean(blog: Blog, guard_settings, guard_log) -> None:
    client = await logged_in(blog)
    response = await client.get("/guard/correct/")
    assert response.status_code == 200
    assert response.json()["user"] == "reader"
    assert response.json()["total"] == len(blog.articles)
    counts = header(response)
    assert counts["violations"] == 0 and counts["n_plus_one"] == 0
    # articles + session + user + count, all on worker threads, all counted
    assert counts["queries"] == 4
    assert counts["hops"] >= 4
    assert violations(guard_log) == []
    hops = [r for r in guard_log.of_kind("hop") if r.file and r.file.endswith("views.py")]
    assert {r.operation for r in hops} >= {"sync_to_async(QuerySet.count)"}
    assert sum(r.queries for r in hops) == 4


@pytest.mark.parametrize(
    ("url", "tag", "code", "operation", "replacement"),
    [
        ("/guard/get/{pk}/", "DJA101 get", "DJA101", "QuerySet.get",
         "await Article.objects.aget()"),
        ("/guard/template/", "DJA208 render", "DJA208", "template rendering",
         "[x async for x in qs]"),
        ("/guard/user/", "DJA501 user", "DJA501", "request.user", "await request.auser()"),
        ("/guard/lazy-fk/{pk}/", "DJA401 author", "DJA401", "lazy FK Article.author",
         "select_related('author')"),
        ("/guard/save/{pk}/", "DJA301 save", "DJA301", "Model.save", "await article.asave()"),
    ],
    ids=["get", "template", "request.user", "lazy-fk", "save"],
)
async def test_unsafe_view_reported_at_user_line(
    blog: Blog, guard_settings, guard_log, url, tag, code, operation, replacement
) -> None:
    client = await logged_in(blog)
    path = url.format(pk=blog.articles[0])
    with pytest.warns(AsyncORMGuardWarning) as warned:
        response = await client.get(path)
    assert response.status_code == 200  # warn mode: the request finished
    assert header(response)["violations"] == 1
    [record] = violations(guard_log)
    line = marked_line(tag)
    assert (record.code, record.line, record.operation) == (code, line, operation)
    assert record.file.endswith(os.path.join("guard_app", "views.py"))
    assert record.function == path_function(url)
    assert record.replacement == replacement
    assert record.request_path == f"GET {path}"
    assert record.levelno == logging.WARNING
    assert f"views.py:{line}" in record.getMessage() and replacement in record.getMessage()
    [warning] = [w for w in warned if issubclass(w.category, AsyncORMGuardWarning)]
    assert warning.filename.endswith("views.py") and warning.lineno == line


def path_function(url: str) -> str:
    return {
        "/guard/get/{pk}/": "get_unsafe", "/guard/template/": "template_lazy",
        "/guard/user/": "user_unsafe", "/guard/lazy-fk/{pk}/": "lazy_fk",
        "/guard/save/{pk}/": "save_unsafe",
    }[url]


def test_replacements_come_from_the_fact_table() -> None:
    """The strings the views test expects are the fact table's, not the guard's own."""
    assert by_kind(Kind.QUERYSET_METHOD)["get"].replacement == "aget"
    assert by_kind(Kind.EVALUATION)["consumer"].replacement == "[x async for x in qs]"
    assert by_kind(Kind.REQUEST_ATTRIBUTE)["user"].replacement == "await request.auser()"
    assert by_kind(Kind.MODEL_METHOD)["save"].replacement == "asave"
    assert by_kind(Kind.RELATION_ACCESS)["forward"].code == "DJA401"


async def test_n_plus_one_reported_once_with_select_related(
    blog: Blog, guard_settings, guard_log
) -> None:
    response = await AsyncClient().get("/guard/n-plus-one/")
    assert response.status_code == 200
    assert len(response.json()["authors"]) == len(blog.articles)
    counts = header(response)
    assert counts["violations"] == 0  # every query ran in a worker thread
    assert counts["n_plus_one"] == 1
    assert counts["queries"] == 1 + len(blog.articles)
    [record] = guard_log.of_kind("n_plus_one")
    assert record.code == "DJG002"
    assert record.count == len(blog.articles)
    assert record.line == marked_line("N+1 author")  # the sync helper's line, on the worker
    assert record.operation == "lazy FK Article.author"
    assert record.replacement.startswith("select_related('author')")
    assert "aprefetch_related_objects" in record.replacement
    assert '"guard_app_author"' in record.sql


async def test_n_plus_one_threshold_is_a_setting(blog: Blog, guard_settings, guard_log) -> None:
    guard_settings(n_plus_one=len(blog.articles))  # repeated exactly N times: not "more than N"
    response = await AsyncClient().get("/guard/n-plus-one/")
    assert header(response)["n_plus_one"] == 0
    assert guard_log.of_kind("n_plus_one") == []


async def test_raise_mode_raises_with_location_and_fix(blog: Blog, guard_settings, guard_log):
    guard_settings(mode="raise")
    with pytest.raises(GuardSynchronousOnlyOperation) as caught:
        await AsyncClient().get(f"/guard/get/{blog.articles[0]}/")
    assert isinstance(caught.value, SynchronousOnlyOperation)
    message = str(caught.value)
    assert f"views.py:{marked_line('DJA101 get')}" in message
    assert "await Article.objects.aget()" in message and "DJA101" in message
    [record] = violations(guard_log)
    assert record.levelno == logging.ERROR and record.mode == "raise"


async def test_log_mode_logs_without_warning(blog: Blog, guard_settings, guard_log) -> None:
    guard_settings(mode="log")
    with warnings.catch_warnings():
        warnings.simplefilter("error", AsyncORMGuardWarning)
        response = await AsyncClient().get(f"/guard/get/{blog.articles[0]}/")
    assert response.status_code == 200
    [record] = violations(guard_log)
    assert record.mode == "log" and record.code == "DJA101"


async def test_exception_in_view_passes_through(blog: Blog, guard_settings, guard_log) -> None:
    with pytest.raises(ValueError, match="failed on purpose"), pytest.warns(AsyncORMGuardWarning):
        await AsyncClient().get(f"/guard/error/{blog.articles[0]}/")
    [record] = violations(guard_log)
    assert record.line == marked_line("DJA101 before error")
    [summary] = guard_log.of_kind("request")
    assert summary.request_path == f"GET /guard/error/{blog.articles[0]}/"


async def test_repeated_violation_is_one_record_with_a_count(
    blog: Blog, guard_settings, guard_log
) -> None:
    from django.urls import path
    from guard_app.models import Article

    async def loop_view(request):
        from django.http import JsonResponse

        titles = []
        for pk in blog.articles[:3]:
            titles.append(Article.objects.get(pk=pk).title)  # guard: repeated get
        return JsonResponse({"titles": titles})

    urls = type("urls", (), {"urlpatterns": [path("loop/", loop_view)]})
    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF=urls), pytest.warns(AsyncORMGuardWarning):
        response = await AsyncClient().get("/loop/")
    assert header(response)["violations"] == 3
    [record] = violations(guard_log)
    assert record.count == 1  # logged at the first occurrence
    assert record.line == marked_line("repeated get", path=__import__("pathlib").Path(__file__))
    [summary] = guard_log.of_kind("request")
    assert summary.violations == 3


async def test_unguarded_code_is_untouched(blog: Blog, guard_settings) -> None:
    """Outside a guarded request, Django's own check still raises (nothing was flipped)."""
    from guard_app.models import Article

    with pytest.warns(AsyncORMGuardWarning):
        await AsyncClient().get(f"/guard/get/{blog.articles[0]}/")  # installs the guard
    with pytest.raises(SynchronousOnlyOperation) as caught:
        Article.objects.get(pk=blog.articles[0])
    assert not isinstance(caught.value, GuardSynchronousOnlyOperation)
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
