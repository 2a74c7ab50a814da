"""The pytest plugin, run by pytest's own ``pytester`` on a small Django test suite."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import os
from pathlib import Path

import django
from django.conf import settings

settings.configure(
    DEBUG=True,
    USE_TZ=True,
    SECRET_KEY="inner",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": str(Path(__file__).parent / "inner.sqlite3")}},
    ASYNCORM_GUARD={"mode": "warn"},
)
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
"""

TESTS = """import asyncio

import pytest
from django.contrib.auth.models import User


async def count_users():
    return User.objects.count()  # the unsafe line


def test_clean():
    asyncio.run(asyncio.sleep(0))


def test_sync_orm_in_async():
    assert asyncio.run(count_users()) == 0


@pytest.mark.asyncorm_guard_expect("DJA101")
def test_expected():
    asyncio.run(count_users())


@pytest.mark.asyncorm_guard_expect("DJA301")
def test_expected_but_other_code():
    asyncio.run(count_users())


@pytest.mark.asyncorm_guard_expect()
def test_expected_but_clean():
    asyncio.run(asyncio.sleep(0))


def test_sync_code_is_fine():
    assert User.objects.count() == 0
"""

UNSAFE_LINE = TESTS.splitlines().index("    return User.objects.count()  # the unsafe line") + 1


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=TESTS)
    return pytester


def test_guard_fails_tests_honours_the_marker_and_summarises(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("--asyncorm-guard", "-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(passed=3, failed=3)
    out = result.stdout.str()
    for name in ("test_sync_orm_in_async", "test_expected_but_other_code",
                 "test_expected_but_clean"):
        assert re.search(rf"FAILED test_inner.py::{name}\b", out), name
    assert re.search(r"PASSED|passed", out)
    # the failure names the user's line, the operation and the fix from the fact table
    assert f"DJA101 test_inner.py:{UNSAFE_LINE} in async function count_users" in out
    assert "use `await User.objects.acount()`" in out
    assert "expected DJA301; recorded DJA101" in out
    assert "the test expected a violation; none was recorded" in out
    # session summary: one row for the unsafe line, 3 occurrences in 3 tests, 1 expected
    result.stdout.re_match_lines([
        r".*asyncorm runtime guard.*",
        r"code\s+location\s+count\s+tests\s+expected\s+operation",
        rf"DJA101\s+test_inner.py:{UNSAFE_LINE}\s+3\s+3\s+2\s+QuerySet.count",
        r"3 finding\(s\) at 1 location\(s\) in 3 test\(s\)",
    ])


def test_plugin_is_off_by_default(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    # Django's own check fails the unsafe tests; the guard adds nothing
    result.assert_outcomes(passed=3, failed=3)
    out = result.stdout.str()
    assert "asyncorm runtime guard" not in out
    assert "SynchronousOnlyOperation: You cannot call this from an async context" in out


def test_ini_option_enables_it_and_raise_mode(suite: pytest.Pytester) -> None:
    suite.makeini("[pytest]\nasyncorm_guard = true\nasyncorm_guard_mode = raise\n")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-k", "sync_orm_in_async")
    result.assert_outcomes(failed=1, deselected=5)
    out = result.stdout.str()
    assert "GuardSynchronousOnlyOperation: DJA101" in out
    assert f"test_inner.py:{UNSAFE_LINE}" in out
    result.stdout.re_match_lines([rf"DJA101\s+test_inner.py:{UNSAFE_LINE}\s+1\s+1\s+0\s+.*"])


def test_fail_on_can_include_n_plus_one(pytester: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makeconftest(CONFTEST.replace('{"mode": "warn"}', '{"mode": "warn", "n_plus_one": 2}'))
    pytester.makeini("[pytest]\nasyncorm_guard_fail_on = violation n_plus_one\n")
    source = (
        "from asgiref.sync import async_to_sync\n"
        "from django.contrib.auth.models import User\n"
        "\n"
        "def test_repeats():\n"
        "    async def main():\n"
        "        for _ in range(4):\n"
        "            await User.objects.filter(username='x').aexists()\n"
        "    async_to_sync(main)()\n"
    )
    pytester.makepyfile(test_loop=source)
    result = pytester.runpytest_subprocess("--asyncorm-guard", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*DJG002 test_loop.py:7: the same query ran 4 times in one request (more than 2)*"
    ])
