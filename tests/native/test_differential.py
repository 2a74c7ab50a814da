"""Every read method, natively and through Django's stock a-methods: identical results.

Runs each case of ``cases.py`` on SQLite and on PostgreSQL, once with the shim
uninstalled and once installed, and compares the results structurally
(``compare.assert_same``): instances with their field values, related-object
caches and sharing, values and their types, and raised exceptions. The native
run must really be native: the report must show the case's method run
natively and no fallback at all.
"""

from __future__ import annotations

from typing import Any

import pytest

import asyncorm_native

from .cases import CASES, POSTGRES_ONLY
from .compare import Raised, assert_same


async def outcome(func: Any, alias: str) -> Any:
    try:
        return await func(alias)
    except Exception as exc:
        return Raised(exc)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_native_result_equals_stock(name: str, alias: str) -> None:
    if name in POSTGRES_ONLY and alias != "postgres":
        pytest.skip("PostgreSQL-only field types (ArrayField, ranges)")
    method, func = CASES[name]
    stock = await outcome(func, alias)
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        native = await outcome(func, alias)
        report = asyncorm_native.report()
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
    assert_same(stock, native)
    assert report.native.get(method, 0) > 0, f"{method} did not run natively:\n{report}"
    assert report.fallback_total == 0, f"unexpected fallback:\n{report}"


def test_cases_cover_every_native_method() -> None:
    from asyncorm_native.patching import _VALUE_METHODS

    covered = {method for method, _ in CASES.values()}
    expected = {
        *_VALUE_METHODS,
        "__aiter__",
        "aiterator",
        "RawQuerySet.__aiter__",
        "aprefetch_related_objects",
    }
    assert covered == expected
