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


def test_sync_request_counts_queries_too(django_databases) -> None:
    """Under WSGI (a sync handler) the middleware still counts; nothing can be a violation."""
    from django.test import Client
    from guard_app.models import Author

    with override_settings(DEBUG=True, MIDDLEWARE=GUARD_MIDDLEWARE,
                           ASYNCORM_GUARD={"header": True}):
        Author.objects.create(name="sync")
        try:
            response = Client().get("/guard/correct/")
        finally:
            Author.objects.filter(name="sync").delete()
    # an async view under the sync handler runs in its own loop via async_to_sync
    assert response.status_code == 200
    counts = dict(p.split("=") for p in response["X-AsyncORM-Guard"].split())
    assert counts["violations"] == "0" and int(counts["queries"]) >= 2
