"""Hostile values: the native shim stores, finds and rejects them exactly as stock Django does.

Quotes, ``%`` and ``%s``-style placeholders, backslashes, NUL bytes, 5 MB strings,
unicode and emoji, SQL-looking strings: each goes through filters (``aget``,
``async for``, ``acount``, ``aexists``, ``__contains``/``__startswith`` patterns)
and writes (``acreate``, ``asave``, ``aupdate``, ``abulk_create``), once through
Django's stock a-methods and once natively, on SQLite and PostgreSQL, from the same
reloaded write zoo. Results, raised exceptions (type and message: PostgreSQL
rejects NUL in text, and the shim must raise stock Django's error for it) and the
rows left behind are compared structurally. Natively, every statement handed to
the driver (psycopg cursors, aiosqlite) is recorded: the value is never part of
the SQL text, only of its parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiosqlite
import psycopg
import pytest
from asgiref.sync import sync_to_async

import asyncorm_native

from .compare import Raised, assert_same
from .zoo import write_data
from .zoo.models import Item, Shop

#: Starts every hostile value: found in a statement's text, it was not sent as a parameter.
MARKER = "Zq9"
FIVE_MB = 5 * 1024 * 1024
HOSTILE = {
    "single_quotes": "O'Brien '' '",
    "double_quotes": 'say "hi" "" "',
    "percent": "100% %% % _",
    "pyformat": "%s %s %d",
    "pyformat_named": "%(x)s %(name)s %()s",
    "backslashes": "back\\slash \\' \\\\ \\x41 \\0 \\",
    "nul": "a\x00b",
    "unicode": "café ü ß 日本語 🦄 👩\u200d👩\u200d👧 \u202eevil \ufeff",
    "sql_injection": "'); DROP TABLE zoo_item; --",
    "sql_injection_double": '"); DELETE FROM "zoo_shop"; --',
    "sqlite_placeholders": "? ?1 :name @p $1 :1",
    "postgres_quoting": "$$ $tag$ E'\\x41' U&'\\0041' ::text",
    "whitespace": "line1\nline2\r\n\ttab\x0b\x0c",
    # hostile characters every kilobyte (psycopg escapes each % with a regex: every few
    # bytes would take seconds, for stock Django as for the shim)
    "five_mb": (("'\"%s\\ é🦄 " + "lorem ipsum " * 82) * (FIVE_MB // 990 + 1))[:FIVE_MB],
}


async def collect(queryset: Any) -> list[Any]:
    return [row async for row in queryset]


def rows(alias: str) -> list[tuple[Any, ...]]:
    """The items as Django's own connection reads them back."""
    return list(Item.objects.using(alias).order_by("pk").values_list("pk", "name", "qty", "note"))


async def scenario(alias: str, value: str) -> dict[str, Any]:
    """Every read and write of ``value``; each step's result or raised exception."""
    items = Item.objects.using(alias)
    shop = await Shop.objects.using(alias).aget(name="Lyon")
    outcomes: dict[str, Any] = {}

    async def step(name: str, call: Any) -> None:
        try:
            outcomes[name] = await call()
        except Exception as exc:
            outcomes[name] = Raised(exc)

    async def save() -> Item:
        item = Item(shop=shop, name="saved", note=value)
        await item.asave()  # INSERT
        item.note = value + value[:3]
        await item.asave()  # UPDATE
        return item

    async def bulk() -> list[Item]:
        return await items.abulk_create(
            [Item(shop=shop, name="bulk", note=value), Item(shop=shop, name="plain", note="-")]
        )

    await step("acreate", lambda: items.acreate(shop=shop, name="created", note=value))
    await step("aget", lambda: items.aget(note=value))
    await step("async for", lambda: collect(items.filter(note=value)))
    await step("acount", lambda: items.filter(note=value).acount())
    await step("aexists", lambda: items.filter(note=value).aexists())
    await step("exclude", lambda: items.exclude(note=value).acount())
    await step("in", lambda: collect(items.filter(note__in=[value, "x"]).values_list("name")))
    await step("startswith", lambda: items.filter(note__startswith=value[:64]).acount())
    await step("icontains", lambda: items.filter(note__icontains=value[:64]).aexists())
    await step("aupdate where", lambda: items.filter(note=value).aupdate(qty=7))
    await step("aupdate set", lambda: items.filter(name="apple").aupdate(note=value))
    await step("asave", save)
    await step("abulk_create", bulk)
    await step("afirst", lambda: items.filter(note=value).order_by("-pk").afirst())
    await step("values", lambda: collect(items.filter(note=value).order_by("pk").values()))
    outcomes["rows"] = await sync_to_async(rows)(alias)
    return outcomes


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """Every (sql, params) the native drivers hand to psycopg or aiosqlite."""
    seen: list[tuple[str, Any]] = []

    def spy(cls: type, name: str) -> None:
        original = getattr(cls, name)

        async def execute(
            self: Any, sql: Any, params: Any = None, *args: Any, **kwargs: Any
        ) -> Any:
            seen.append((str(sql), params))
            return await original(self, sql, params, *args, **kwargs)

        monkeypatch.setattr(cls, name, execute)

    spy(psycopg.AsyncCursor, "execute")
    spy(psycopg.AsyncServerCursor, "execute")
    spy(aiosqlite.Connection, "execute")
    spy(aiosqlite.Connection, "execute_fetchall")
    yield seen


def flat_params(params: Any) -> list[Any]:
    if params is None:
        return []
    return list(params.values() if isinstance(params, dict) else params)


def same(stock: Any, native: Any) -> None:
    """``assert_same`` with a message cut short (the values run to megabytes)."""
    try:
        assert_same(stock, native)
    except AssertionError as exc:
        raise AssertionError(str(exc)[:2000]) from None


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_value_equals_stock_and_stays_a_parameter(
    name: str, alias: str, statements: list[tuple[str, Any]]
) -> None:
    value = MARKER + HOSTILE[name]
    await sync_to_async(write_data.reset)(alias)
    stock = await scenario(alias, value)

    await sync_to_async(write_data.reset)(alias)
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        native = await scenario(alias, value)
        report = asyncorm_native.report()
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()

    for step in stock:
        same(stock[step], native[step])
    if not isinstance(native["acreate"], Raised):  # stored and read back unchanged
        assert native["aget"].note == value
        assert next(row for row in native["rows"] if row[1] == "created")[3] == value
    assert report.fallback_total == 0, f"unexpected fallback:\n{report}"
    assert statements, "no statement went through the native drivers"
    in_text = [sql[:200] for sql, _ in statements if MARKER in sql]
    assert not in_text, f"the value is part of the SQL text: {in_text}"
    params = [p for _, params in statements for p in flat_params(params) if isinstance(p, str)]
    assert value in params, "the value was never sent as a parameter"
