"""The plans, run by the sync driver on Django's own connections, give Django's sync results.

This is how the plan logic is proven independently of the async drivers: the
same generators the async driver runs are driven here by
``drivers.django_sync`` and compared with Django's synchronous methods.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Avg, Count, F, Max, Prefetch, Q, Sum, prefetch_related_objects
from django.db.models.functions import Upper

from asyncorm_native.drivers import django_sync
from asyncorm_native.plans import queryset as plans
from asyncorm_native.plans import raw as raw_plans
from asyncorm_native.plans import rows as row_plans
from asyncorm_native.plans.prefetch import prefetch_related_objects as prefetch_plan

from .compare import Raised, assert_same
from .zoo.models import Author, Bistro, Book, Comment, Place, Tag

QUERYSETS: dict[str, Callable[[str], Any]] = {
    "books": lambda db: Book.objects.using(db).order_by("pk"),
    "filtered": lambda db: Book.objects.using(db).filter(
        Q(pages__gt=300) | Q(title__endswith="(reissue)")
    ),
    "select_related": lambda db: Book.objects.using(db).select_related(
        "author__profile", "publisher"
    ),
    "prefetch": lambda db: Author.objects.using(db).prefetch_related(
        "books__tags", "profile", "mentees"
    ),
    "prefetch_gfk": lambda db: Comment.objects.using(db).prefetch_related("target"),
    "prefetch_objects": lambda db: Author.objects.using(db).prefetch_related(
        Prefetch("books", queryset=Book.objects.using(db).filter(pages__gt=200), to_attr="long")
    ),
    "values": lambda db: (
        Book.objects.using(db).values("title", "author__name", "data").order_by("pk")
    ),
    "values_list_flat": lambda db: (
        Book.objects.using(db).values_list("price", flat=True).order_by("pk")
    ),
    "values_list_named": lambda db: Author.objects.using(db).values_list(
        "uid", "joined", named=True
    ),
    "annotate": lambda db: Author.objects.using(db).annotate(
        n=Count("books"), p=Sum("books__pages")
    ),
    "dates": lambda db: Book.objects.using(db).dates("published", "month"),
    "datetimes": lambda db: Author.objects.using(db).datetimes("joined", "hour"),
    "union": lambda db: (
        Book.objects.using(db)
        .filter(pages__lt=200)
        .union(Book.objects.using(db).filter(pages__gt=500))
        .order_by("pk")
    ),
    "only_mti": lambda db: Bistro.objects.using(db).only("name", "stars"),
    "mti_select_related": lambda db: Place.objects.using(db).select_related("restaurant__bistro"),
    "extra": lambda db: Book.objects.using(db).extra(select={"twice": "pages * 2"}).order_by("pk"),
    "expressions": lambda db: Book.objects.using(db).annotate(u=Upper("title"), d=F("pages") - 1),
    "empty": lambda db: Book.objects.using(db).none(),
    "sliced": lambda db: Tag.objects.using(db).order_by("name")[1:4],
}


def outcome(func: Callable[[], Any]) -> Any:
    try:
        return func()
    except Exception as exc:
        return Raised(exc)


@pytest.mark.parametrize("shape", sorted(QUERYSETS))
def test_evaluate_equals_list(shape: str, alias: str) -> None:
    make = QUERYSETS[shape]
    assert_same(
        outcome(lambda: list(make(alias))),
        outcome(lambda: django_sync.run(row_plans.evaluate(make(alias)))),
    )


@pytest.mark.parametrize("shape", sorted(QUERYSETS))
def test_stream_equals_iterator(shape: str, alias: str) -> None:
    make = QUERYSETS[shape]
    qs = make(alias)
    size = 2 if qs._prefetch_related_lookups else 3
    expected = outcome(lambda: list(make(alias).iterator(chunk_size=size)))
    plan = row_plans.stream(qs, True, size, qs._prefetch_related_lookups)
    assert_same(expected, outcome(lambda: list(django_sync.iterate(plan))))


@pytest.mark.parametrize("shape", sorted(QUERYSETS))
def test_count_exists_first_last(shape: str, alias: str) -> None:
    make = QUERYSETS[shape]
    run = django_sync.run
    assert_same(
        outcome(lambda: make(alias).count()), outcome(lambda: run(plans.count(make(alias))))
    )
    assert_same(
        outcome(lambda: make(alias).exists()), outcome(lambda: run(plans.exists(make(alias))))
    )
    assert_same(
        outcome(lambda: make(alias).first()), outcome(lambda: run(plans.first(make(alias))))
    )
    assert_same(outcome(lambda: make(alias).last()), outcome(lambda: run(plans.last(make(alias)))))


SINGLE_CALLS: dict[str, tuple[Callable[[str], Any], Callable[[str], Any]]] = {
    "get": (
        lambda db: Book.objects.using(db).select_related("author").get(title="Book 04"),
        lambda db: plans.get(
            Book.objects.using(db).select_related("author"), (), {"title": "Book 04"}
        ),
    ),
    "get_missing": (
        lambda db: Book.objects.using(db).get(title="nope"),
        lambda db: plans.get(Book.objects.using(db), (), {"title": "nope"}),
    ),
    "get_multiple": (
        lambda db: Book.objects.using(db).get(pages__gt=1),
        lambda db: plans.get(Book.objects.using(db), (), {"pages__gt": 1}),
    ),
    "earliest": (
        lambda db: Author.objects.using(db).earliest("rating"),
        lambda db: plans.earliest(Author.objects.using(db), ("rating",)),
    ),
    "latest": (
        lambda db: Author.objects.using(db).latest(),
        lambda db: plans.latest(Author.objects.using(db), ()),
    ),
    "aggregate": (
        lambda db: Book.objects.using(db).aggregate(Avg("price"), m=Max("pages"), s=Sum("price")),
        lambda db: plans.aggregate(
            Book.objects.using(db), (Avg("price"),), {"m": Max("pages"), "s": Sum("price")}
        ),
    ),
    "aggregate_empty": (
        lambda db: (
            Book.objects.using(db).filter(pk__in=[]).aggregate(s=Sum("price"), c=Count("pk"))
        ),
        lambda db: plans.aggregate(
            Book.objects.using(db).filter(pk__in=[]), (), {"s": Sum("price"), "c": Count("pk")}
        ),
    ),
    "contains": (
        lambda db: (
            Book.objects.using(db)
            .filter(price__gt=Decimal(15))
            .contains(Book.objects.using(db).last())
        ),
        lambda db: plans.contains(
            Book.objects.using(db).filter(price__gt=Decimal(15)), Book.objects.using(db).last()
        ),
    ),
    "in_bulk": (
        lambda db: Author.objects.using(db).in_bulk(
            ["ada@zoo.test", "boris@zoo.test"], field_name="email"
        ),
        lambda db: plans.in_bulk(
            Author.objects.using(db), ["ada@zoo.test", "boris@zoo.test"], "email"
        ),
    ),
    "in_bulk_batched": (
        lambda db: Book.objects.using(db).in_bulk(range(1, 2000)),
        lambda db: plans.in_bulk(Book.objects.using(db), range(1, 2000), "pk"),
    ),
    "raw": (
        lambda db: list(
            Author.objects.using(db).raw(
                "SELECT *, rating * 3 AS tripled FROM zoo_author ORDER BY id"
            )
        ),
        lambda db: raw_plans.evaluate_raw(
            Author.objects.using(db).raw(
                "SELECT *, rating * 3 AS tripled FROM zoo_author ORDER BY id"
            )
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(SINGLE_CALLS))
def test_single_calls(name: str, alias: str) -> None:
    django_call, plan = SINGLE_CALLS[name]
    assert_same(outcome(lambda: django_call(alias)), outcome(lambda: django_sync.run(plan(alias))))


def test_prefetch_related_objects(alias: str) -> None:
    lookups = ("books__publisher", "mentees__books__tags", Prefetch("profile"))
    expected = list(Author.objects.using(alias).order_by("pk"))
    prefetch_related_objects(expected, *lookups)
    native = list(Author.objects.using(alias).order_by("pk"))
    django_sync.run(prefetch_plan(native, *lookups))
    assert_same(expected, native)
