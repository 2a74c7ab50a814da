"""The PostgreSQL driver's timestamptz loader gives exactly what Django's loader gives.

``drivers/pgtypes.py`` parses with psycopg's compiled loader and applies
Django's ``replace(tzinfo=...)``. Here both loaders load the server's own text
for tens of thousands of timestamps (years 1 to 9999, fractional seconds,
historical offsets with seconds, DST changes, BC dates, infinities, values that
overflow Python's datetime), under several session time zones and Django
timezones: same value, same tzinfo object, same fold, same error.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest

psycopg = pytest.importorskip("psycopg")

SERIES = """
SELECT t::text FROM generate_series(
    '0001-01-01 00:00:00+00'::timestamptz, '9999-12-31 00:00:00+00'::timestamptz,
    '97 days 3 hours 7 minutes 11.123457 seconds'::interval) AS t
UNION ALL
SELECT t::text FROM unnest(ARRAY[
    'infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '0001-01-01 00:00:00+00',
    '9999-12-31 23:59:59.999999+00', '9999-12-31 12:00:00+00', '1850-06-01 12:00:00+00',
    '1900-01-01 00:00:00+00', '2023-03-26 01:30:00+00', '2023-10-29 00:30:00+00',
    '2023-10-29 01:30:00+00', '2000-01-01 00:00:00.5+00', '2000-01-01 00:00:00.000001+00',
    '2000-01-01 00:00:00.12+00'
]::timestamptz[]) AS t
"""
SESSION_ZONES = ["UTC", "Europe/Paris", "America/Chicago", "Asia/Kathmandu"]
DJANGO_ZONES = [datetime.UTC, zoneinfo.ZoneInfo("Europe/Paris"), None]


def outcome(loader: Any, data: bytes) -> Any:
    try:
        value = loader.load(data)
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    return (value, value.tzinfo, value.fold)


@pytest.fixture(scope="module")
def pg_connection(django_databases: set[str]) -> Any:
    if "postgres" not in django_databases:
        pytest.skip("PostgreSQL is not reachable")
    from django.db import connections

    params = connections["postgres"].get_connection_params()
    conn = psycopg.connect(**params)
    yield conn
    conn.close()


@pytest.mark.parametrize("session_zone", SESSION_ZONES)
def test_fast_loader_equals_djangos(pg_connection: Any, session_zone: str) -> None:
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    from asyncorm_native.drivers import pgtypes

    if not pgtypes.HAS_COMPILED:
        pytest.skip("psycopg without its C extension: Django's loader is used as is")
    conn = pg_connection
    conn.execute("SELECT set_config('TimeZone', %s, false)", [session_zone])
    texts = [row[0].encode() for row in conn.execute(SERIES).fetchall()]
    assert len(texts) > 37000
    oid = pgtypes.TIMESTAMPTZ_OID
    errors = 0
    for tz in DJANGO_ZONES:
        django_loader = type("SpecificTzLoader", (BaseTzLoader,), {"timezone": tz})(oid, conn)
        fast_loader = pgtypes.tzloader(tz)(oid, conn)
        assert fast_loader._compiled is not None
        for text in texts:
            expected = outcome(django_loader, text)
            got = outcome(fast_loader, text)
            assert got == expected, text
            if expected[0] == "raised":
                errors += 1
            else:  # the very tzinfo object Django's loader puts (its timezone)
                assert got[1] is expected[1] is tz, text
    assert errors >= 3 * len(DJANGO_ZONES)  # BC, infinity, -infinity at least


def test_registered_on_the_pool_context(pg_connection: Any) -> None:
    from django.db import connections

    from asyncorm_native.drivers import pgtypes
    from asyncorm_native.drivers.postgres import PostgresPool

    pool = PostgresPool("postgres", {"min_size": 0, "max_size": 1, "timeout": 5})
    loader = pool._pool.kwargs["context"].get_loader(
        pgtypes.TIMESTAMPTZ_OID, psycopg.pq.Format.TEXT
    )
    assert loader.timezone == connections["postgres"].timezone
    assert issubclass(loader, pgtypes.FastTzLoader) == pgtypes.HAS_COMPILED


def test_non_iso_datestyle_is_djangos(pg_connection: Any) -> None:
    """Django's loader refuses a non-ISO DateStyle; so does the fast one (it is Django's then)."""
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    from asyncorm_native.drivers import pgtypes

    conn = pg_connection
    conn.execute("SET DateStyle = 'SQL, DMY'")
    try:
        texts = [row[0].encode() for row in conn.execute(SERIES + " LIMIT 50").fetchall()]
        oid = pgtypes.TIMESTAMPTZ_OID
        django_loader = type("L", (BaseTzLoader,), {"timezone": datetime.UTC})(oid, conn)
        fast_loader = pgtypes.tzloader(datetime.UTC)(oid, conn)
        assert fast_loader._compiled is None
        for text in texts:
            expected = outcome(django_loader, text)
            assert expected[0] == "raised"
            assert outcome(fast_loader, text) == expected
    finally:
        conn.execute("SET DateStyle = 'ISO, MDY'")
