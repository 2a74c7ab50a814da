"""Fixtures for the runtime guard's tests: seeded data per database, captured guard records,
Django settings with the guard installed, and the fixture project's marked source lines.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.guard import routers
from tests.guard.served import PROJECT_DIR

VIEWS = PROJECT_DIR / "guard_app" / "views.py"

GUARD_MIDDLEWARE = [
    "runtime_guard.middleware.AsyncORMGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def marked_line(tag: str, path: Path = VIEWS) -> int:
    """Line number of the ``# guard: <tag>`` comment in the fixture project's views."""
    pattern = re.compile(r"#\s*guard:\s*" + re.escape(tag) + r"\s*$")
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if pattern.search(line):
            return number
    raise LookupError(f"no '# guard: {tag}' line in {path}")


class RecordCollector(logging.Handler):
    """Collects the ``runtime_guard`` logger's records (all levels)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def of_kind(self, kind: str) -> list[logging.LogRecord]:
        return [r for r in self.records if getattr(r, "kind", None) == kind]


@pytest.fixture
def guard_log() -> Iterator[RecordCollector]:
    """The guard's log records during the test."""
    logger = logging.getLogger("runtime_guard")
    collector = RecordCollector()
    old_level = logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
        logger.setLevel(old_level)


@pytest.fixture
def installed(django_databases: set[str]) -> None:
    """The guard's observers, as the middleware installs them."""
    from runtime_guard.install import install
    from runtime_guard.settings import GuardSettings

    install(GuardSettings())


@pytest.fixture(autouse=True)
def _guard_uninstalled_after_test() -> Iterator[None]:
    """Leave the process as it was: the guard's hooks are removed after each test (the
    middleware installs them again on its first request)."""
    yield
    from runtime_guard.install import uninstall

    uninstall()


@dataclass
class Blog:
    """Seeded data on one database alias."""

    alias: str
    articles: list[int]
    session_key: str
    user: str


@pytest.fixture
def blog(db_alias: str) -> Iterator[Blog]:
    """A small blog on ``db_alias``; every ORM call in the test is routed there."""
    from django.test.utils import override_settings
    from guard_app.management.commands.seed_guard import seed

    token = routers.alias.set(db_alias)
    with override_settings(DATABASE_ROUTERS=["tests.guard.routers.ContextAliasRouter"]):
        data = seed()
        try:
            yield Blog(db_alias, data["articles"], data["session_key"], data["user"])
        finally:
            routers.alias.reset(token)


_worker_connections: list[Any] = []


def _track_worker_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    if threading.current_thread() is not threading.main_thread():
        _worker_connections.append(connection)


@pytest.fixture(autouse=True)
def _close_worker_connections() -> Iterator[None]:
    """Close connections that worker threads opened during the test.

    Connections are per thread: the test client's sync thread and the loops' default
    executors keep theirs open, and PostgreSQL cannot drop the test database at the end
    of the session while any is open.
    """
    from django.db.backends.signals import connection_created

    connection_created.connect(_track_worker_connection, dispatch_uid="guard-tests-workers")
    yield
    for connection in list(_worker_connections):
        connection.inc_thread_sharing()
        try:
            connection.close()
        finally:
            connection.dec_thread_sharing()
    _worker_connections.clear()


@pytest.fixture
def guard_settings(django_databases: set[str]) -> Iterator[Any]:
    """Django settings with the guard first in MIDDLEWARE; call it to change ASYNCORM_GUARD."""
    from django.test.utils import override_settings

    active: list[Any] = []

    def apply(**guard: Any) -> None:
        while active:
            active.pop().disable()
        override = override_settings(
            MIDDLEWARE=GUARD_MIDDLEWARE, ASYNCORM_GUARD={"mode": "warn", "header": True, **guard},
            DEBUG=True,
        )
        override.enable()
        active.append(override)

    apply()
    try:
        yield apply
    finally:
        while active:
            active.pop().disable()
