"""The aget() statement cache: which calls reuse a cached statement, and that they are right.

The results of the ``cached_get_*`` cases equal Django's in ``test_differential.py``
(and make no thread hop in ``test_thread_hops.py``). Here the same cases run
natively with fresh counters, to show that the calls meant to reuse a
statement did, and that the others took Django's full path.
"""

from __future__ import annotations

import threading

import pytest
from django.test import override_settings

import asyncorm_native
from asyncorm_native.plans import statements

from .cases import CASES
from .zoo.models import Author

# (compiled, hit, refused, uncacheable) per case; see the comments in cases.py.
EXPECTED = {
    # 6 pks: 1 compiled, 5 hits; a missing pk and a str pk hit; 2**70 (empty result),
    # "abc" (ValueError), None (IS NULL), F() and a list are refused; the last pk hits.
    "cached_get_pk_values": (1, 8, 5, 0),
    # email 1c+6h (""), None refused; uid 1c+6h (str), bad uuid refused; joined 1c+6h;
    # rating 1c+8h; active: False 1c, True refused (a bare column), False hits;
    # meta 1c+2h; name+rating 1c+5h, then 1h.
    "cached_get_value_types": (7, 35, 3, 0),
    # Profile(author=instance) 1c+5h, author=pk hits, a Publisher (ValueError) and None
    # refused; author_id 1c+5h; mentor 1c+1h; pk=instance raises in filter() (not counted).
    "cached_get_related_values": (3, 12, 2, 0),
    # Cached: 11 shapes (prefetch_related shares the plain queryset's statement), the
    # two-keyword call and the related manager (a prior filter on the author);
    # not cached: 5 calls (a join, Count).
    "cached_get_shapes": (13, 44, 0, 5),
    "cached_get_gathered": (1, 18, 0, 0),
}
# Evaluations (async for, afirst()) of querysets with prior filters, per case: (compiled, hit,
# refused, uncacheable). cached_rows_filters: each filter shape compiles once and its other
# values hit, except publisher=None (IS NULL: its own shape), active=False after True (the
# bare column's NOT: refused), pk__in lists of another length or empty (refused), a JSON key
# transform (uncacheable); a related manager shares books.filter(author=...)'s statement.
EXPECTED_ROWS = {
    "cached_rows_filters": (13, 34, 3, 2),
    "cached_rows_first": (4, 15, 0, 0),
}
# On PostgreSQL, JSONField values are psycopg Jsonb wrappers, which do not compare
# equal: the check on the first call cannot prove them rebuilt, so meta= is not cached.
EXPECTED_POSTGRES = {"cached_get_value_types": (6, 33, 3, 3)}


async def native_counts(name: str, alias: str, purpose: str = "get") -> tuple[int, ...]:
    asyncorm_native.install()
    statements.clear()
    statements.counts.clear()
    try:
        await CASES[name][1](alias)
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
    counts = statements.counts
    return tuple(
        counts[purpose, outcome] for outcome in ("compiled", "hit", "refused", "uncacheable")
    )


def test_every_cached_case_has_expectations() -> None:
    assert set(EXPECTED) == {name for name in CASES if name.startswith("cached_get")}
    assert set(EXPECTED_ROWS) == {name for name in CASES if name.startswith("cached_rows")}


@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
async def test_rows_cache_use(name: str, alias: str) -> None:
    assert await native_counts(name, alias, "rows") == EXPECTED_ROWS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_cache_use(name: str, alias: str) -> None:
    expected = EXPECTED_POSTGRES.get(name, EXPECTED[name]) if alias == "postgres" else None
    assert await native_counts(name, alias) == (expected or EXPECTED[name])


async def test_setting_change_drops_statements(alias: str, native: None) -> None:
    pk = (await Author.objects.using(alias).order_by("pk").afirst()).pk
    await Author.objects.using(alias).aget(pk=pk)
    key = statements.shape_key(Author.objects.using(alias), ("get", ("pk",)), alias)[0]
    assert statements.find(key)
    with override_settings(DEBUG=True):
        assert statements.find(key) is False
    statements.counts.clear()
    assert (await Author.objects.using(alias).aget(pk=pk)).pk == pk
    assert statements.counts == {("get", "compiled"): 1}


async def test_statements_belong_to_their_thread(alias: str, native: None) -> None:
    pk = (await Author.objects.using(alias).order_by("pk").afirst()).pk
    await Author.objects.using(alias).aget(pk=pk)
    key = statements.shape_key(Author.objects.using(alias), ("get", ("pk",)), alias)[0]
    seen = []
    thread = threading.Thread(target=lambda: seen.append(statements.find(key)))
    thread.start()
    thread.join()
    assert statements.find(key)
    assert seen == [False]


def test_signature_refuses_unknown_state() -> None:
    from django.db.models import Count, F, Q

    def key(queryset):
        shape = statements.shape_key(queryset, ("get", ("pk",)), "default")
        return None if shape is None else shape[0]

    plain = Author.objects.all()
    assert key(plain) is not None
    assert key(plain.filter(name="Ada")) is not None
    assert key(plain.filter(name="Ada")) == key(plain.filter(name="Boris"))
    assert key(plain.filter(name="Ada")) != key(plain.filter(name__startswith="Ada"))
    assert key(plain.filter(Q(name="Ada") | Q(name="Boris"))) is None
    assert key(plain.exclude(name="Ada")) is None
    assert key(plain.filter(name__in=Author.objects.values("name"))) is None  # a subquery
    assert key(plain.filter(mentor__name="x")) == key(plain.filter(mentor__name="y"))  # a join
    assert key(plain.filter(mentor__name="x")) != key(plain.filter(name="x"))
    assert key(plain.filter(name=F("email"))) is None
    assert key(plain.annotate(n=Count("books"))) is None
    assert key(plain.order_by(F("name").desc())) is None
    assert key(plain.only("name")) != key(plain.only("email"))
