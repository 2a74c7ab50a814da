"""The read calls the differential tests run twice, through Django's stock a-methods and natively.

Each case is ``async def case(db) -> result`` using only the async API under
test; ``CASES`` maps a case id to ``(method, case)`` where *method* is the
native method the case must exercise (the test checks it ran natively).
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    StdDev,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import (
    Coalesce,
    Concat,
    ExtractYear,
    Lower,
    Now,
    Rank,
    TruncDate,
    TruncMonth,
    Upper,
)
from django.utils import timezone

from .zoo.models import (
    Author,
    Bistro,
    Book,
    BookTag,
    Comment,
    Gadget,
    Place,
    Profile,
    Publisher,
    Restaurant,
    Sample,
    Tag,
)

Case_ = Callable[[str], Awaitable[Any]]
CASES: dict[str, tuple[str, Case_]] = {}
POSTGRES_ONLY: set[str] = set()


def case(method: str, *, postgres_only: bool = False) -> Callable[[Case_], Case_]:
    def register(func: Case_) -> Case_:
        name = func.__name__.removeprefix("case_")
        assert name not in CASES, name
        CASES[name] = (method, func)
        if postgres_only:
            POSTGRES_ONLY.add(name)
        return func

    return register


async def collect(queryset: Any) -> list[Any]:
    return [item async for item in queryset]


# --- aget --------------------------------------------------------------------------------


@case("aget")
async def case_get_pk(db: str) -> Any:
    first = await Author.objects.using(db).order_by("pk").afirst()
    return await Author.objects.using(db).aget(pk=first.pk)


@case("aget")
async def case_get_unique_field(db: str) -> Any:
    return await Author.objects.using(db).aget(email="boris@zoo.test")


@case("aget")
async def case_get_q_object(db: str) -> Any:
    return await Book.objects.using(db).aget(Q(title__startswith="Book 03") | Q(pages=-1))


@case("aget")
async def case_get_does_not_exist(db: str) -> Any:
    return await Author.objects.using(db).aget(name="Nobody")


@case("aget")
async def case_get_multiple(db: str) -> Any:
    return await Book.objects.using(db).aget(pages__gt=0)


@case("aget")
async def case_get_select_related(db: str) -> Any:
    return await Book.objects.using(db).select_related("author", "publisher").aget(title="Book 04")


@case("aget")
async def case_get_select_related_null_fk(db: str) -> Any:
    return await Book.objects.using(db).select_related("publisher").aget(title="Book 04")


@case("aget")
async def case_get_select_related_deep(db: str) -> Any:
    return await (
        Book.objects.using(db)
        .select_related("author__mentor__mentor", "author__profile")
        .aget(title="Book 03")
    )


@case("aget")
async def case_get_select_related_reverse_o2o(db: str) -> Any:
    return await Author.objects.using(db).select_related("profile").aget(name="Chloé")


@case("aget")
async def case_get_only_defer(db: str) -> Any:
    a = await Author.objects.using(db).only("name", "rating").aget(name="Ada")
    b = await Author.objects.using(db).defer("meta", "joined").aget(name="Ada")
    return [a, b, a.get_deferred_fields(), b.get_deferred_fields()]


@case("aget")
async def case_get_annotated(db: str) -> Any:
    return (
        await Author.objects.using(db)
        .annotate(n=Count("books"), top=Max("books__price"))
        .aget(name="Ada")
    )


@case("aget")
async def case_get_values(db: str) -> Any:
    return (
        await Book.objects.using(db).values("title", "author__name", "data").aget(title="Book 02")
    )


@case("aget")
async def case_get_values_list_named(db: str) -> Any:
    return (
        await Book.objects.using(db).values_list("title", "price", named=True).aget(title="Book 02")
    )


@case("aget")
async def case_get_union(db: str) -> Any:
    low = Author.objects.using(db).filter(name="Ada")
    return await low.union(Author.objects.using(db).filter(name="Ada")).aget()


@case("aget")
async def case_get_union_with_filter_error(db: str) -> Any:
    qs = Author.objects.using(db).filter(name="Ada").union(Author.objects.using(db).all())
    return await qs.aget(name="Ada")


@case("aget")
async def case_get_multi_table_child(db: str) -> Any:
    return await Bistro.objects.using(db).aget(name="Petit B")


@case("aget")
async def case_get_multi_table_parent_select_related(db: str) -> Any:
    return await Place.objects.using(db).select_related("restaurant__bistro").aget(name="Petit B")


@case("aget")
async def case_get_custom_manager(db: str) -> Any:
    return await Book.published_objects.using(db).aget(title="Book 02")


@case("aget")
async def case_get_custom_manager_filters_out(db: str) -> Any:
    return await Book.published_objects.using(db).aget(title="Book 05 (reissue)")


@case("aget")
async def case_get_related_manager(db: str) -> Any:
    author = await Author.objects.using(db).aget(name="Ada")
    return await author.books.aget(title="Book 05 (reissue)")


@case("aget")
async def case_get_m2m_manager(db: str) -> Any:
    book = await Book.objects.using(db).aget(title="Book 03")
    return await book.tags.aget(name="sf")


@case("aget")
async def case_get_generic_relation(db: str) -> Any:
    book = await Book.objects.using(db).aget(title="Book 01")
    return await book.comments.aget()


@case("aget")
async def case_get_gfk_model(db: str) -> Any:
    return await Comment.objects.using(db).aget(text="comment 4")


@case("aget")
async def case_get_json_lookups(db: str) -> Any:
    return [
        await Author.objects.using(db).aget(meta__age=51),
        await Author.objects.using(db).aget(meta__nested__a__0=1),
        await Book.objects.using(db).aget(data__i=4),
    ]


@case("aget")
async def case_get_uuid_decimal_datetime(db: str) -> Any:
    ada = await Author.objects.using(db).aget(name="Ada")
    return [
        await Author.objects.using(db).aget(uid=ada.uid),
        await Author.objects.using(db).aget(rating=Decimal("4.5")),
        await Author.objects.using(db).aget(joined=ada.joined),
        await Author.objects.using(db).aget(joined__date=ada.joined.date()),
    ]


@case("aget")
async def case_get_timezone_override(db: str) -> Any:
    with timezone.override("Europe/Paris"):
        return (
            await Author.objects.using(db)
            .values("joined")
            .aget(joined__hour=7, joined__date=datetime.date(2023, 5, 2))
        )


@case("aget")
async def case_get_duration_float(db: str) -> Any:
    return await Gadget.objects.using(db).aget(name="gadget 3")


# --- afirst / alast / aearliest / alatest -------------------------------------------------


@case("afirst")
async def case_first_ordered(db: str) -> Any:
    return await Book.objects.using(db).order_by("-price", "title").afirst()


@case("afirst")
async def case_first_meta_ordering(db: str) -> Any:
    return await Author.objects.using(db).afirst()


@case("afirst")
async def case_first_unordered(db: str) -> Any:
    return await Tag.objects.using(db).afirst()


@case("afirst")
async def case_first_empty(db: str) -> Any:
    return await Book.objects.using(db).filter(pages__lt=0).afirst()


@case("afirst")
async def case_first_values(db: str) -> Any:
    return await Book.objects.using(db).values("title", "published").order_by("published").afirst()


@case("afirst")
async def case_first_aggregation_unordered(db: str) -> Any:
    return await Book.objects.using(db).values("author").annotate(n=Count("pk")).afirst()


@case("afirst")
async def case_first_prefetch(db: str) -> Any:
    return await Author.objects.using(db).prefetch_related("books__tags").afirst()


@case("afirst")
async def case_first_cached_queryset(db: str) -> Any:
    qs = Author.objects.using(db).all()
    await collect(qs)
    return await qs.afirst()


@case("alast")
async def case_last_ordered(db: str) -> Any:
    return await Book.objects.using(db).order_by("published", "pk").alast()


@case("alast")
async def case_last_unordered(db: str) -> Any:
    return await Tag.objects.using(db).alast()


@case("alast")
async def case_last_empty(db: str) -> Any:
    return await Author.objects.using(db).filter(name="").alast()


@case("aearliest")
async def case_earliest(db: str) -> Any:
    return [
        await Author.objects.using(db).aearliest(),
        await Book.objects.using(db).aearliest("published", "-pages"),
        await Author.objects.using(db).aearliest("-rating"),
    ]


@case("aearliest")
async def case_earliest_errors(db: str) -> Any:
    results = []
    for call in (
        lambda: Book.objects.using(db).aearliest(),
        lambda: Author.objects.using(db).all()[:2].aearliest("joined"),
        lambda: Author.objects.using(db).filter(name="nobody").aearliest("joined"),
    ):
        try:
            results.append(await call())
        except Exception as exc:
            results.append((type(exc).__name__, str(exc)))
    return results


@case("alatest")
async def case_latest(db: str) -> Any:
    return [
        await Author.objects.using(db).alatest(),
        await Book.objects.using(db).filter(published__isnull=False).alatest("published"),
        await Comment.objects.using(db).alatest("posted"),
    ]


# --- acount / aexists / acontains / aaggregate ----------------------------------------------


@case("acount")
async def case_count(db: str) -> Any:
    books = Book.objects.using(db)
    return [
        await books.acount(),
        await books.filter(published__isnull=True).acount(),
        await books.filter(tags__name__in=["sf", "noir"]).distinct().acount(),
        await books.all()[3:9].acount(),
        await books.values("author").annotate(n=Count("pk")).acount(),
        await books.values("publisher").distinct().acount(),
        await books.none().acount(),
        await books.filter(pk__in=[]).acount(),
        await Author.objects.using(db)
        .filter(name="Ada")
        .union(Author.objects.using(db).all())
        .acount(),
        await Book.published_objects.using(db).acount(),
    ]


@case("acount")
async def case_count_cached(db: str) -> Any:
    qs = Book.objects.using(db).filter(pages__gt=200)
    items = await collect(qs)
    return [len(items), await qs.acount()]


@case("acount")
async def case_count_related_managers(db: str) -> Any:
    ada = await Author.objects.using(db).aget(name="Ada")
    book = await Book.objects.using(db).aget(title="Book 03")
    return [
        await ada.books.acount(),
        await book.tags.acount(),
        await book.comments.acount(),
        await ada.mentees.acount(),
    ]


@case("acount")
async def case_count_prefetched_manager(db: str) -> Any:
    ada = await Author.objects.using(db).prefetch_related("books").aget(name="Ada")
    return await ada.books.acount()


@case("aexists")
async def case_exists(db: str) -> Any:
    books = Book.objects.using(db)
    return [
        await books.aexists(),
        await books.filter(title="nope").aexists(),
        await books.none().aexists(),
        await books.all()[100:].aexists(),
        await books.order_by("pk").distinct()[2:4].aexists(),
        await books.filter(pages__gt=0).union(books.filter(pages__lt=0)).aexists(),
        await books.values("author").annotate(n=Count("pk")).filter(n__gt=3).aexists(),
    ]


@case("aexists")
async def case_exists_cached(db: str) -> Any:
    qs = Tag.objects.using(db).filter(name="nope")
    await collect(qs)
    return await qs.aexists()


@case("acontains")
async def case_contains(db: str) -> Any:
    ada = await Author.objects.using(db).aget(name="Ada")
    chloe = await Author.objects.using(db).aget(name="Chloé")
    book = await Book.objects.using(db).afirst()
    authors = Author.objects.using(db)
    return [
        await authors.filter(active=True).acontains(ada),
        await authors.filter(active=True).acontains(chloe),
        await authors.acontains(book),
        await authors.none().acontains(ada),
    ]


@case("acontains")
async def case_contains_errors(db: str) -> Any:
    results = []
    for call in (
        lambda: Author.objects.using(db).acontains(Author(name="unsaved")),
        lambda: Author.objects.using(db).values("pk").acontains(Author(pk=1)),
        lambda: Author.objects.using(db).acontains("not a model"),
    ):
        try:
            results.append(await call())
        except Exception as exc:
            results.append((type(exc).__name__, str(exc)))
    return results


@case("aaggregate")
async def case_aggregate(db: str) -> Any:
    books = Book.objects.using(db)
    return [
        await books.aaggregate(Sum("pages"), Avg("price"), Max("published"), Min("title")),
        await books.aaggregate(n=Count("tags", distinct=True), total=Sum("price")),
        await books.filter(pages__lt=0).aaggregate(s=Sum("pages"), c=Count("pk"), a=Avg("price")),
        await books.filter(pages__lt=0).aaggregate(s=Sum("pages", default=0)),
        await books.annotate(n=Count("tags")).aaggregate(most=Max("n"), avg=Avg("n")),
        await books.all()[2:7].aaggregate(p=Sum("pages")),
        await books.values("author").annotate(p=Sum("pages")).aaggregate(m=Max("p")),
        await books.aaggregate(
            value=Sum(ExpressionWrapper(F("price") * F("pages"), output_field=DecimalField()))
        ),
        await Author.objects.using(db).aaggregate(r=Avg("rating"), d=StdDev("rating")),
        await Author.objects.using(db).aaggregate(first=Min("joined"), last=Max("joined")),
        await books.none().aaggregate(c=Count("pk")),
    ]


@case("aaggregate")
async def case_aggregate_errors(db: str) -> Any:
    results = []
    for call in (
        lambda: Book.objects.using(db).aaggregate(F("pages") + 1),
        lambda: Book.objects.using(db).aaggregate(x=F("pages")),
        lambda: Book.objects.using(db).aaggregate("pages"),
    ):
        try:
            results.append(await call())
        except Exception as exc:
            results.append((type(exc).__name__, str(exc)))
    return results


# --- ain_bulk --------------------------------------------------------------------------------


@case("ain_bulk")
async def case_in_bulk(db: str) -> Any:
    books = Book.objects.using(db)
    pks = [b.pk async for b in books.order_by("pk")]
    return [
        await books.ain_bulk(),
        await books.ain_bulk(pks[:3]),
        await books.ain_bulk([]),
        await books.ain_bulk([pks[0], -1, pks[0]]),
        await Author.objects.using(db).ain_bulk(["ada@zoo.test", "x@y"], field_name="email"),
        await Author.objects.using(db).select_related("profile").ain_bulk(),
    ]


@case("ain_bulk")
async def case_in_bulk_batched(db: str) -> Any:
    # More ids than SQLite's parameter limit: Django batches the query.
    return await Book.objects.using(db).ain_bulk(list(range(1, 2500)))


@case("ain_bulk")
async def case_in_bulk_errors(db: str) -> Any:
    results = []
    for call in (
        lambda: Book.objects.using(db).all()[:2].ain_bulk(),
        lambda: Book.objects.using(db).values("pk").ain_bulk(),
        lambda: Book.objects.using(db).ain_bulk([1], field_name="title"),
    ):
        try:
            results.append(await call())
        except Exception as exc:
            results.append((type(exc).__name__, str(exc)))
    return results


# --- async for ------------------------------------------------------------------------------


@case("__aiter__")
async def case_iter_all_models(db: str) -> Any:
    return [
        await collect(model.objects.using(db).order_by("pk"))
        for model in (
            Publisher,
            Author,
            Profile,
            Tag,
            Book,
            BookTag,
            Comment,
            Place,
            Restaurant,
            Bistro,
            Gadget,
        )
    ]


@case("__aiter__")
async def case_iter_filters(db: str) -> Any:
    books = Book.objects.using(db)
    return [
        await collect(books.filter(Q(pages__gt=200) & ~Q(author__name="Ada")).order_by("-pages")),
        await collect(books.exclude(publisher__country="FR").order_by("title")),
        await collect(books.filter(title__icontains="REISSUE")),
        await collect(books.filter(published__year=2002, published__month__gte=2)),
        await collect(books.filter(price__range=(Decimal("10"), Decimal("20")))),
        await collect(books.filter(isbn__in=[b.isbn async for b in books[:3]])),
        await collect(books.filter(data__even=True)),
        await collect(books.filter(data__isnull=True)),
        await collect(books.filter(data__tags__1=6)),
        await collect(books.filter(tags__name="sf").filter(tags__name="noir")),
        await collect(books.filter(title__regex=r"^Book 1[0-3]")),
        await collect(books.filter(author__joined__week_day=2)),
    ]


@case("__aiter__")
async def case_iter_select_related(db: str) -> Any:
    return [
        await collect(Book.objects.using(db).select_related("author__profile", "publisher")),
        await collect(Book.objects.using(db).select_related()),
        await collect(Author.objects.using(db).select_related("profile", "mentor")),
        await collect(
            Place.objects.using(db).select_related("restaurant__bistro", "restaurant__chef")
        ),
        await collect(Profile.objects.using(db).select_related("author__mentor")),
        await collect(BookTag.objects.using(db).select_related("book__author", "tag")),
    ]


@case("__aiter__")
async def case_iter_prefetch_related(db: str) -> Any:
    return [
        await collect(Author.objects.using(db).prefetch_related("books")),
        await collect(
            Author.objects.using(db).prefetch_related("books__tags", "mentees", "profile")
        ),
        await collect(Book.objects.using(db).prefetch_related("author", "publisher", "tags")),
        await collect(Tag.objects.using(db).prefetch_related("books__author__profile")),
        await collect(Comment.objects.using(db).prefetch_related("target")),
        await collect(Book.objects.using(db).prefetch_related("comments")),
        await collect(Author.objects.using(db).prefetch_related("restaurants")),
        await collect(Profile.objects.using(db).prefetch_related("author__books")),
    ]


@case("__aiter__")
async def case_iter_prefetch_objects(db: str) -> Any:
    return [
        await collect(
            Author.objects.using(db).prefetch_related(
                Prefetch(
                    "books",
                    queryset=Book.objects.using(db).filter(pages__gt=300).order_by("-pages"),
                )
            )
        ),
        await collect(
            Author.objects.using(db).prefetch_related(
                Prefetch(
                    "books",
                    queryset=Book.objects.using(db).select_related("publisher"),
                    to_attr="all_books",
                ),
                Prefetch("all_books__tags", to_attr="tag_list"),
            )
        ),
        await collect(
            Publisher.objects.using(db).prefetch_related(
                Prefetch("books", queryset=Book.objects.using(db).prefetch_related("tags"))
            )
        ),
        await collect(
            Comment.objects.using(db).prefetch_related(
                Prefetch("target", queryset=Book.objects.using(db).select_related("author"))
            )
        ),
        await collect(
            Book.objects.using(db).prefetch_related(
                Prefetch("author", queryset=Author.objects.using(db).annotate(n=Count("books")))
            )
        ),
    ]


@case("__aiter__")
async def case_iter_only_defer(db: str) -> Any:
    return [
        await collect(Author.objects.using(db).only("name")),
        await collect(Author.objects.using(db).defer("meta", "uid")),
        await collect(
            Book.objects.using(db).select_related("author").only("title", "author__name")
        ),
        await collect(Bistro.objects.using(db).only("stars", "name")),
        await collect(Bistro.objects.using(db).defer("address")),
    ]


@case("__aiter__")
async def case_iter_values(db: str) -> Any:
    books = Book.objects.using(db).order_by("pk")
    return [
        await collect(books.values()),
        await collect(books.values("title", "author__name", "publisher__country", "data__i")),
        await collect(
            books.values("author").annotate(n=Count("pk"), pages=Sum("pages")).order_by("author")
        ),
        await collect(books.values(up=Upper("title"), year=ExtractYear("published"))),
        await collect(Author.objects.using(db).values("meta", "uid", "joined", "rating")),
        await collect(
            Author.objects.using(db)
            .values("books__tags__name")
            .distinct()
            .order_by("books__tags__name")
        ),
    ]


@case("__aiter__")
async def case_iter_values_list(db: str) -> Any:
    books = Book.objects.using(db).order_by("pk")
    return [
        await collect(books.values_list()),
        await collect(books.values_list("title", flat=True)),
        await collect(books.values_list("isbn", "price", "published", named=True)),
        await collect(books.values_list("data", flat=True)),
        await collect(books.values_list("tags__name", flat=True)),
        await collect(
            Gadget.objects.using(db).values_list("weight", "made", "span").order_by("pk")
        ),
        await collect(books.values_list(Lower("title"), "pages")),
    ]


@case("__aiter__")
async def case_iter_dates(db: str) -> Any:
    books = Book.objects.using(db)
    authors = Author.objects.using(db)
    return [
        await collect(books.dates("published", "year")),
        await collect(books.dates("published", "month", order="DESC")),
        await collect(books.dates("published", "week")),
        await collect(books.dates("published", "day")),
        await collect(authors.datetimes("joined", "hour")),
        await collect(
            authors.datetimes(
                "joined", "day", tzinfo=datetime.timezone(datetime.timedelta(hours=-7))
            )
        ),
        await collect(Comment.objects.using(db).datetimes("posted", "minute", order="DESC")),
    ]


@case("__aiter__")
async def case_iter_dates_timezone(db: str) -> Any:
    from zoneinfo import ZoneInfo

    with timezone.override("Asia/Kathmandu"):
        return [
            await collect(Author.objects.using(db).datetimes("joined", "day")),
            await collect(
                Author.objects.using(db).annotate(d=TruncDate("joined"), m=TruncMonth("joined"))
            ),
            await collect(
                Author.objects.using(db).datetimes(
                    "joined", "month", tzinfo=ZoneInfo("America/New_York")
                )
            ),
        ]


@case("__aiter__")
async def case_iter_annotations(db: str) -> Any:
    newest = Book.objects.using(db).filter(author=OuterRef("pk")).order_by("-published")
    return [
        await collect(
            Author.objects.using(db)
            .annotate(
                n=Count("books"),
                avg_price=Avg("books__price"),
                label=Concat("name", Value(" <"), "email", Value(">"), output_field=CharField()),
                tier=Case(
                    When(rating__gte=4, then=Value("high")),
                    When(rating__gte=2, then=Value("mid")),
                    default=Value("low"),
                ),
                latest=Subquery(newest.values("title")[:1]),
                has_books=Exists(Book.objects.using(db).filter(author=OuterRef("pk"))),
                score=ExpressionWrapper(
                    F("rating") * 2, output_field=DecimalField(max_digits=6, decimal_places=2)
                ),
                mentor_name=Coalesce("mentor__name", Value("-")),
            )
            .order_by("name")
        ),
        await collect(
            Book.objects.using(db)
            .annotate(rank=Window(Rank(), partition_by=F("author"), order_by=F("price").desc()))
            .order_by("author", "rank", "pk")
        ),
        await collect(
            Book.objects.using(db).alias(p=F("pages") * 2).filter(p__gt=600).annotate(q=F("p") + 1)
        ),
        await collect(Author.objects.using(db).annotate(now_is_later=Q(joined__lt=Now()))),
    ]


@case("__aiter__")
async def case_iter_combinators(db: str) -> Any:
    books = Book.objects.using(db)
    cheap = books.filter(price__lt=15)
    long = books.filter(pages__gt=400)
    return [
        await collect(cheap.union(long).order_by("-pk")),
        await collect(cheap.union(long, all=True).order_by("pk")),
        await collect(cheap.intersection(books.filter(pages__gt=150)).order_by("pk")),
        await collect(books.difference(cheap).order_by("title")),
        await collect(
            cheap.values_list("title", flat=True)
            .union(long.values_list("title", flat=True))
            .order_by("title")
        ),
        await collect(cheap.values("pk", "title").union(long.values("pk", "title"))[:3]),
        await collect(books.none().union(cheap).order_by("pk")),
    ]


@case("__aiter__")
async def case_iter_slices_distinct_extra(db: str) -> Any:
    books = Book.objects.using(db)
    return [
        await collect(books.order_by("pk")[3:7]),
        await collect(books.order_by("pk")[14:]),
        await collect(
            books.filter(tags__name__in=["sf", "poetry", "essay"]).distinct().order_by("pk")
        ),
        await collect(
            books.extra(
                select={"double": "pages * 2"}, where=["pages > %s"], params=[500]
            ).order_by("pk")
        ),
        await collect(
            books.extra(select={"double": "pages * 2"}).values("title", "double").order_by("pk")
        ),
        await collect(books.reverse()[:3]),
    ]


@case("__aiter__")
async def case_iter_empty(db: str) -> Any:
    books = Book.objects.using(db)
    return [
        await collect(books.none()),
        await collect(books.filter(pk__in=[])),
        await collect(books.none().values("title")),
        await collect(books.filter(pk__in=[]).values_list("pk", flat=True)),
        await collect(books.none().select_related("author").prefetch_related("tags")),
    ]


@case("__aiter__")
async def case_iter_related_managers(db: str) -> Any:
    ada = await Author.objects.using(db).aget(name="Ada")
    book = await Book.objects.using(db).aget(title="Book 03")
    books = await collect(ada.books.all())
    # Known related objects: each book's author is the very instance the manager came from.
    same = [b.author is ada for b in books]
    return [
        books,
        same,
        await collect(book.tags.all()),
        await collect(book.comments.all()),
        await collect(ada.mentees.all()),
        await collect(book.tags.through.objects.using(db).filter(book=book)),
    ]


@case("__aiter__")
async def case_iter_cached_queryset(db: str) -> Any:
    qs = Book.objects.using(db).filter(pages__gt=500)
    first = await collect(qs)
    second = await collect(qs)
    return [first, second, first[0] is second[0]]


@case("__aiter__", postgres_only=True)
async def case_iter_postgres_types(db: str) -> Any:
    from django.db.backends.postgresql.psycopg_any import NumericRange

    samples = Sample.objects.using(db)
    return [
        await collect(samples.all()),
        await collect(samples.values("values", "words", "ints", "when", "amounts")),
        await collect(samples.filter(values__contains=[1, 2])),
        await collect(
            samples.filter(values__len__gte=3).values_list("values__0", "words__1", flat=False)
        ),
        await collect(samples.filter(ints__contains=5)),
        await collect(samples.filter(ints__overlap=NumericRange(0, 3))),
        await collect(samples.filter(words__overlap=["xx"])),
    ]


@case("__aiter__")
async def case_iter_contenttypes(db: str) -> Any:
    return await collect(ContentType.objects.using(db).filter(app_label="zoo").order_by("model"))


# --- aiterator --------------------------------------------------------------------------------


@case("aiterator")
async def case_aiterator_chunks(db: str) -> Any:
    books = Book.objects.using(db).order_by("pk")
    return [
        [b async for b in books.aiterator()],
        [b async for b in books.aiterator(chunk_size=1)],
        [b async for b in books.aiterator(chunk_size=3)],
        [b async for b in books.filter(pages__lt=0).aiterator()],
        [b async for b in books.none().aiterator()],
    ]


@case("aiterator")
async def case_aiterator_shapes(db: str) -> Any:
    books = Book.objects.using(db).order_by("pk")
    return [
        [b async for b in books.values("title", "price").aiterator(chunk_size=4)],
        [b async for b in books.values_list("isbn", flat=True).aiterator(chunk_size=5)],
        [b async for b in books.values_list("pk", "title", named=True).aiterator(chunk_size=7)],
        [b async for b in books.select_related("author", "publisher").aiterator(chunk_size=6)],
        [b async for b in books.extra(select={"x": "pages + 1"}).aiterator(chunk_size=4)],
        [
            b
            async for b in Author.objects.using(db).dates("joined", "month").aiterator(chunk_size=2)
        ],
    ]


@case("aiterator")
async def case_aiterator_prefetch(db: str) -> Any:
    return [
        [
            a
            async for a in Author.objects.using(db)
            .prefetch_related("books__tags")
            .aiterator(chunk_size=2)
        ],
        [
            a
            async for a in Author.objects.using(db)
            .prefetch_related(Prefetch("books", to_attr="listed"))
            .aiterator(chunk_size=4)
        ],
        [
            c
            async for c in Comment.objects.using(db)
            .prefetch_related("target")
            .aiterator(chunk_size=3)
        ],
    ]


@case("aiterator")
async def case_aiterator_invalid_chunk_size(db: str) -> Any:
    results = []
    for size in (0, -1):
        try:
            results.append([b async for b in Book.objects.using(db).aiterator(chunk_size=size)])
        except ValueError as exc:
            results.append(str(exc))
    return results


@case("aiterator")
async def case_aiterator_early_break(db: str) -> Any:
    seen = []
    async for book in Book.objects.using(db).order_by("pk").aiterator(chunk_size=2):
        seen.append(book)
        if len(seen) == 3:
            break
    return [*seen, await Book.objects.using(db).order_by("pk").afirst()]


# --- raw ----------------------------------------------------------------------------------------


@case("RawQuerySet.__aiter__")
async def case_raw(db: str) -> Any:
    authors = Author.objects.using(db)
    return [
        await collect(
            authors.raw("SELECT * FROM zoo_author WHERE rating > %s ORDER BY id", [Decimal("3")])
        ),
        await collect(
            authors.raw("SELECT id, name, rating * 2 AS doubled FROM zoo_author ORDER BY name")
        ),
        await collect(
            authors.raw(
                "SELECT id AS pk_alias, name AS who FROM zoo_author ORDER BY id",
                translations={"pk_alias": "id", "who": "name"},
            )
        ),
        await collect(
            Book.objects.using(db).raw(
                "SELECT * FROM zoo_book WHERE pages > %s ORDER BY id", (500,)
            )
        ),
        await collect(authors.raw("SELECT * FROM zoo_author WHERE 1 = 0")),
        await collect(
            Author.objects.raw("SELECT * FROM zoo_author ORDER BY id", using=db).prefetch_related(
                "books"
            )
        ),
    ]


@case("RawQuerySet.__aiter__")
async def case_raw_named_params_and_errors(db: str) -> Any:
    results = []
    named = Author.objects.using(db).raw(
        "SELECT * FROM zoo_author WHERE name = %(name)s", {"name": "Boris"}
    )
    results.append(await collect(named))
    try:
        results.append(await collect(Author.objects.using(db).raw("SELECT name FROM zoo_author")))
    except Exception as exc:
        results.append((type(exc).__name__, str(exc)))
    try:
        results.append(await collect(Author.objects.using(db).raw("SELECT * FROM no_such_table")))
    except Exception as exc:
        results.append(type(exc).__name__)
    return results


# --- aprefetch_related_objects -----------------------------------------------------------------


@case("aprefetch_related_objects")
async def case_aprefetch_related_objects(db: str) -> Any:
    from django.db.models import aprefetch_related_objects

    authors = await collect(Author.objects.using(db).order_by("pk"))
    await aprefetch_related_objects(authors, "books__publisher", "profile", "mentees__books")
    comments = await collect(Comment.objects.using(db).order_by("pk"))
    await aprefetch_related_objects(comments, "target")
    return [authors, comments]


@case("aprefetch_related_objects")
async def case_aprefetch_related_objects_errors(db: str) -> Any:
    from django.db.models import aprefetch_related_objects

    authors = await collect(Author.objects.using(db).order_by("pk"))
    results = []
    for lookups in (["nonexistent"], ["name"], [Prefetch("books", to_attr="name")]):
        try:
            await aprefetch_related_objects(authors, *lookups)
            results.append("ok")
        except Exception as exc:
            results.append((type(exc).__name__, str(exc)))
    await aprefetch_related_objects([], "books")
    return results


# --- aget statement cache (plans/statements.py) ----------------------------------------------
# Each case calls aget() several times on one queryset shape with other values: the first
# call compiles with Django, later ones reuse its statement or must take Django's full path.
# tests/native/test_statements.py checks which calls hit the cache.


async def gets(queryset: Any, *calls: dict[str, Any]) -> list[Any]:
    """``queryset.aget(**kwargs)`` for each call; an exception is an outcome too."""
    outcomes: list[Any] = []
    for kwargs in calls:
        try:
            outcomes.append(await queryset.aget(**kwargs))
        except Exception as exc:
            outcomes.append((type(exc).__name__, str(exc)))
    return outcomes


@case("aget")
async def case_cached_get_pk_values(db: str) -> Any:
    pks = [a.pk async for a in Author.objects.using(db).order_by("pk")]
    return await gets(
        Author.objects.using(db),
        *({"pk": pk} for pk in pks),
        {"pk": 10**6},  # no row
        {"pk": str(pks[1])},  # prepared by IntegerField.get_prep_value
        {"pk": 2**70},  # overflow: Django compiles an empty result (no query)
        {"pk": "abc"},  # Django's ValueError
        {"pk": None},  # IS NULL
        {"pk": F("id")},  # an expression: full path
        {"pk": [pks[0]]},  # a list: full path
        {"pk": pks[2]},
    )


@case("aget")
async def case_cached_get_value_types(db: str) -> Any:
    authors = [a async for a in Author.objects.using(db).order_by("pk")]
    paris = datetime.timezone(datetime.timedelta(hours=2))
    qs = Author.objects.using(db)
    return [
        await gets(qs, *({"email": a.email} for a in authors), {"email": ""}, {"email": None}),
        await gets(qs, *({"uid": a.uid} for a in authors), {"uid": str(authors[1].uid)}),
        await gets(qs, {"uid": "not-a-uuid"}),
        await gets(
            qs,
            *({"joined": a.joined} for a in authors),
            {"joined": authors[2].joined.astimezone(paris)},
        ),
        await gets(
            qs,
            *({"rating": a.rating} for a in authors),
            {"rating": "4.5"},
            {"rating": 3},
            {"rating": Decimal("3.250")},
        ),
        await gets(qs, {"active": False}, {"active": True}, {"active": False}),
        await gets(qs, {"meta": {"langs": ["ru"], "age": 51}}, {"meta": {}}, {"meta": {"x": 1}}),
        await gets(qs, *({"name": a.name, "rating": a.rating} for a in authors)),
        await gets(qs, {"name": authors[0].name, "rating": authors[1].rating}),
    ]


@case("aget")
async def case_cached_get_related_values(db: str) -> Any:
    authors = [a async for a in Author.objects.using(db).order_by("pk")]
    publisher = await Publisher.objects.using(db).order_by("pk").afirst()
    return [
        await gets(
            Profile.objects.using(db),
            *({"author": a} for a in authors),
            {"author": authors[0].pk},
            {"author": publisher},  # wrong model: Django's ValueError
            {"author": None},
        ),
        await gets(Profile.objects.using(db), *({"author_id": a.pk} for a in authors)),
        await gets(Author.objects.using(db), {"mentor": authors[1]}, {"mentor": authors[0]}),
        await gets(Author.objects.using(db), {"pk": authors[0]}),  # an instance for an int
    ]


@case("aget")
async def case_cached_get_shapes(db: str) -> Any:
    pks = [a.pk async for a in Author.objects.using(db).order_by("pk")]
    book_pks = [b.pk async for b in Book.objects.using(db).order_by("pk")][:4]
    titles = [b.title async for b in Book.objects.using(db).order_by("pk")][:4]
    places = [p.pk async for p in Bistro.objects.using(db).order_by("pk")]
    author = await Author.objects.using(db).aget(pk=pks[0])
    raw = RawSQL("1 + 1", (), output_field=DecimalField(max_digits=5, decimal_places=1))
    return [
        await gets(Author.objects.using(db).order_by("-name"), *({"pk": pk} for pk in pks)),
        await gets(Author.objects.using(db).only("name"), *({"pk": pk} for pk in pks)),
        await gets(Author.objects.using(db).defer("meta"), *({"pk": pk} for pk in pks)),
        await gets(
            Book.objects.using(db).select_related("author", "publisher"),
            *({"title": t} for t in titles),
        ),
        await gets(
            Book.objects.using(db).values("title", "price"), *({"pk": pk} for pk in book_pks)
        ),
        await gets(
            Book.objects.using(db).values_list("title", flat=True),
            *({"pk": pk} for pk in book_pks),
        ),
        await gets(Author.objects.using(db).annotate(two=raw), *({"pk": pk} for pk in pks)),
        await gets(
            Author.objects.using(db).prefetch_related("books"), *({"pk": pk} for pk in pks[:3])
        ),
        await gets(Bistro.objects.using(db), *({"pk": pk} for pk in places)),
        # Not cached: a filter already applied, a join, an aggregate annotation.
        await gets(Book.published_objects.using(db), *({"title": t} for t in titles)),
        await gets(Author.objects.using(db).filter(active=True), *({"pk": pk} for pk in pks)),
        await gets(Bistro.objects.using(db), {"name": "Petit B"}, {"name": "Grand C"}),
        await gets(
            Author.objects.using(db).annotate(n=Count("books")), *({"pk": pk} for pk in pks[:3])
        ),
        await gets(author.books.all(), *({"pk": pk} for pk in book_pks)),
        await gets(Author.objects.using(db), {"pk": pks[0], "name": "Ada"}),
    ]


@case("aget")
async def case_cached_get_gathered(db: str) -> Any:
    import asyncio

    pks = [a.pk async for a in Author.objects.using(db).order_by("pk")]
    await Author.objects.using(db).aget(pk=pks[0])
    return await asyncio.gather(*(Author.objects.using(db).aget(pk=pk) for pk in pks * 3))


async def each(make: Any, values: list[Any], how: str = "list") -> list[Any]:
    """Evaluate ``make(value)`` for each value (``async for``, or ``afirst()``)."""
    outcomes: list[Any] = []
    for value in values:
        try:
            queryset = make(value)
            outcomes.append(await queryset.afirst() if how == "first" else await collect(queryset))
        except Exception as exc:
            outcomes.append((type(exc).__name__, str(exc)))
    return outcomes


@case("__aiter__")
async def case_cached_rows_filters(db: str) -> Any:
    authors = [a async for a in Author.objects.using(db).order_by("pk")]
    publishers = [p async for p in Publisher.objects.using(db).order_by("pk")]
    books = Book.objects.using(db)
    return [
        await each(lambda a: books.filter(author=a), authors),
        await each(lambda a: books.filter(author_id=a.pk, pages__gt=100), authors),
        await each(lambda p: books.filter(publisher=p), [*publishers, None]),  # None: IS NULL
        await each(lambda v: Author.objects.using(db).filter(active=v), [True, False, True]),
        await each(lambda n: books.filter(pk__in=n), [[1, 2], [3], [], [2, 1], [4, 5]]),
        await each(lambda t: books.filter(title__startswith=t), ["Book 0", "Book 1", "x"]),
        await each(
            lambda d: Author.objects.using(db).filter(joined__gte=d),
            [a.joined for a in authors[::2]],
        ),
        await each(lambda a: a.books.all(), authors),  # related manager, known instances
        await each(lambda a: Author.objects.using(db).filter(mentor__name=a.name), authors),
        await each(lambda r: Author.objects.using(db).filter(rating=r), ["4.50", 3.25, 2]),
        await each(lambda a: books.filter(author=a).values_list("title", "price"), authors[:3]),
        await each(lambda v: books.filter(data__i=v), [1, 2]),  # a transform: not cached
    ]


@case("afirst")
async def case_cached_rows_first(db: str) -> Any:
    authors = [a async for a in Author.objects.using(db).order_by("pk")]
    return [
        await each(lambda a: Book.objects.using(db).filter(author=a), authors, "first"),
        await each(
            lambda a: Book.objects.using(db).filter(author=a).order_by("-pages"), authors, "first"
        ),
        await each(lambda p: Profile.objects.using(db).filter(author=p), authors, "first"),
    ]


# --- errors from the database ---------------------------------------------------------------------


@case("__aiter__")
async def case_database_error(db: str) -> Any:
    try:
        return await collect(Book.objects.using(db).extra(where=["no_such_column = 1"]))
    except Exception as exc:
        return type(exc).__module__, type(exc).__name__
