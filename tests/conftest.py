"""Shared fixtures: real test databases (SQLite file and local PostgreSQL) for Django tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

_PG_ABSENT: str | None = None


def postgres_absent_reason() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it answers."""
    global _PG_ABSENT
    if _PG_ABSENT is None:
        from django.conf import settings

        cfg = settings.DATABASES["postgres"]
        try:
            import psycopg

            psycopg.connect(
                dbname=cfg["NAME"],
                user=cfg["USER"],
                password=cfg["PASSWORD"] or None,
                host=cfg["HOST"],
                port=cfg["PORT"],
                connect_timeout=3,
            ).close()
            _PG_ABSENT = ""
        except Exception as exc:  # any failure means "absent": say which
            _PG_ABSENT = f"PostgreSQL at {cfg['HOST']}:{cfg['PORT']} is not reachable: {exc}"
    return _PG_ABSENT or None


@pytest.fixture(scope="session")
def django_databases() -> Iterator[set[str]]:
    """Create the test databases once per session; yield the usable aliases."""
    import django
    from django.test.utils import setup_databases, teardown_databases

    django.setup()
    aliases = {"default"} if postgres_absent_reason() else {"default", "postgres"}
    old = setup_databases(verbosity=0, interactive=False, aliases=aliases)
    try:
        yield aliases
    finally:
        teardown_databases(old, verbosity=0)


@pytest.fixture(params=["default", "postgres"], ids=["sqlite", "postgres"])
def db_alias(request: pytest.FixtureRequest, django_databases: set[str]) -> str:
    """Run a test once on SQLite and once on PostgreSQL (skipped, with the reason, if absent)."""
    if request.param not in django_databases:
        pytest.skip(postgres_absent_reason() or f"database {request.param!r} not configured")
    return request.param
