"""Settings validation, production safety (DEBUG = False) and the response header switch."""

from __future__ import annotations

import logging
import re

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.test import AsyncClient, override_settings

from runtime_guard.middleware import AsyncORMGuardMiddleware
from runtime_guard.settings import GuardConfigurationError, GuardSettings, from_django
from tests.guard.conftest import GUARD_MIDDLEWARE


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mode": "loud"}, "must be one of warn, raise, log"),
        ({"slow_callback_ms": 0}, "positive number of milliseconds"),
        ({"n_plus_one": 0}, "positive integer"),
        ({"ignore_modules": "celery"}, "list of module names"),
        ({"modes": "warn"}, "unknown ASYNCORM_GUARD key(s) 'modes'"),
    ],
)
def test_invalid_settings_are_refused_with_the_reason(values, message) -> None:
    with pytest.raises(GuardConfigurationError, match=re.escape(message)):
        GuardSettings.from_mapping(values)


def test_defaults_and_overrides(django_databases) -> None:
    with override_settings(ASYNCORM_GUARD={"n_plus_one": 9}):
        settings = from_django(mode="raise")
    assert (settings.mode, settings.n_plus_one, settings.slow_callback_ms) == ("raise", 9, 100)
    assert not settings.header_enabled(debug=True)  # the header is opt-in
    asked = settings.merged(header=True)
    assert asked.header_enabled(debug=True) and not asked.header_enabled(debug=False)


def _view(request) -> HttpResponse:
    return HttpResponse("ok")


def test_debug_false_turns_the_middleware_off_with_one_log_line(
    django_databases, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(DEBUG=False, ASYNCORM_GUARD={}), caplog.at_level(
        logging.INFO, logger="runtime_guard"
    ), pytest.raises(MiddlewareNotUsed):
        AsyncORMGuardMiddleware(_view)
    lines = [r for r in caplog.records if r.name == "runtime_guard"]
    assert len(lines) == 1 and "DEBUG is False" in lines[0].getMessage()


def test_force_runs_it_without_debug(django_databases) -> None:
    with override_settings(DEBUG=False, ASYNCORM_GUARD={"force": True, "header": True}):
        middleware = AsyncORMGuardMiddleware(_view)
    response = middleware(__import__("django.test").test.RequestFactory().get("/"))
    assert response.content == b"ok"
    assert "X-AsyncORM-Guard" not in response  # never on a production (DEBUG = False) server


async def test_django_skips_the_middleware_when_debug_is_false(
    django_databases, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(DEBUG=False, MIDDLEWARE=GUARD_MIDDLEWARE, ASYNCORM_GUARD={}), \
            caplog.at_level(logging.INFO, logger="runtime_guard"):
        response = await AsyncClient().get("/guard/slow/?ms=1")
    assert response.status_code == 200
    assert "X-AsyncORM-Guard" not in response
    assert sum("DEBUG is False" in r.getMessage() for r in caplog.records) == 1


async def test_header_is_opt_in(django_databases) -> None:
    with override_settings(DEBUG=True, MIDDLEWARE=GUARD_MIDDLEWARE, ASYNCORM_GUARD={}):
        response = await AsyncClient().get("/guard/slow/?ms=1")
    assert response.status_code == 200 and "X-AsyncORM-Guard" not in response


def test_wsgi_handler_counts_queries_and_reports_violations(django_databases) -> None:
    """Under WSGI (runserver) an async view runs in a loop of its own: same guard."""
    from django.test import Client
    from guard_app.models import Article, Author

    from runtime_guard.reporting import AsyncORMGuardWarning
    from tests.guard.conftest import marked_line

    with override_settings(DEBUG=True, MIDDLEWARE=GUARD_MIDDLEWARE,
                           ASYNCORM_GUARD={"header": True}):
        author = Author.objects.create(name="sync")
        article = Article.objects.create(title="wsgi", author=author)
        try:
            correct = Client().get("/guard/correct/")
            with pytest.warns(AsyncORMGuardWarning) as warned:
                unsafe = Client().get(f"/guard/get/{article.pk}/")
        finally:
            author.delete()
    counts = dict(p.split("=") for p in correct["X-AsyncORM-Guard"].split())
    assert counts["violations"] == "0" and int(counts["queries"]) >= 2
    assert unsafe.status_code == 200
    assert "violations=1" in unsafe["X-AsyncORM-Guard"]
    assert [w.lineno for w in warned] == [marked_line("DJA101 get")]
