"""The zoo's rows: the same deterministic data in every database."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from .models import (
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

UTC = datetime.UTC
T0 = datetime.datetime(2023, 3, 26, 0, 30, 15, 123456, tzinfo=UTC)  # a DST night in Europe


def load(alias: str) -> None:
    """Create the zoo rows on ``alias`` (autocommit: committed at once)."""
    db = alias
    publishers = [
        Publisher.objects.using(db).create(name=name, country=country)
        for name, country in [("Gallimard", "FR"), ("Penguin", "GB"), ("Suhrkamp", "DE")]
    ]
    authors: list[Author] = []
    specs = [
        (
            "Ada",
            "4.50",
            {"langs": ["en", "fr"], "age": 36, "nested": {"a": [1, {"b": None}]}},
            True,
        ),
        ("Boris", "3.25", {"langs": ["ru"], "age": 51}, True),
        ("Chloé", "2.00", {}, False),
        ("Dmitri", "4.75", {"langs": [], "age": None}, True),
        ("Émile", "1.10", {"quote": 'l\'été "chaud" 100%'}, True),
        ("Fatima", "3.00", {"langs": ["ar", "en"], "age": 29}, True),
    ]
    for i, (name, rating, meta, active) in enumerate(specs):
        authors.append(
            Author.objects.using(db).create(
                name=name,
                email=f"{name.lower()}@zoo.test",
                uid=uuid.UUID(int=0x1000 + i),
                joined=T0 + datetime.timedelta(days=37 * i, hours=5 * i, microseconds=i),
                rating=Decimal(rating),
                meta=meta,
                active=active,
                mentor=authors[0] if i in (1, 2) else (authors[1] if i == 3 else None),
            )
        )
    for author, bio in [
        (authors[0], "Poet of numbers"),
        (authors[1], "Novelist"),
        (authors[3], ""),
    ]:
        Profile.objects.using(db).create(
            author=author, bio=bio, birthday=datetime.date(1980 + author.pk % 7, 2, 28)
        )
    tags = [Tag.objects.using(db).create(name=n) for n in ("sf", "poetry", "essay", "noir", "kids")]
    books: list[Book] = []
    for i in range(16):
        book = Book.objects.using(db).create(
            title=f"Book {i:02d}" + (" (reissue)" if i % 5 == 0 else ""),
            author=authors[i % 5],
            publisher=publishers[i % 3] if i % 4 else None,
            price=Decimal("9.99") + Decimal(i) * Decimal("1.25"),
            pages=80 + 37 * i,
            published=None if i % 6 == 5 else datetime.date(2001 + i % 4, 1 + i % 12, 1 + i),
            isbn=uuid.UUID(int=0x2000 + i),
            data=None if i % 7 == 3 else {"i": i, "even": i % 2 == 0, "tags": [i, i * 2]},
        )
        books.append(book)
        for j, tag in enumerate(tags):
            if (i + j) % 3 == 0:
                BookTag.objects.using(db).create(book=book, tag=tag, weight=i * j)
    book_type = ContentType.objects.db_manager(db).get_for_model(Book)
    author_type = ContentType.objects.db_manager(db).get_for_model(Author)
    for i in range(10):
        target_type, target = (book_type, books[i]) if i % 3 else (author_type, authors[i % 6])
        Comment.objects.using(db).create(
            content_type=target_type,
            object_id=target.pk,
            text=f"comment {i}",
            posted=T0 + datetime.timedelta(hours=i),
        )
    Place.objects.using(db).create(name="Square", address="1 Plaza")
    Restaurant.objects.using(db).create(
        name="Chez A", address="2 Rue", serves_pizza=False, chef=authors[0]
    )
    Bistro.objects.using(db).create(
        name="Petit B", address="3 Rue", serves_pizza=True, chef=authors[2], stars=2
    )
    Bistro.objects.using(db).create(name="Grand C", address="4 Rue", serves_pizza=False, stars=0)
    for i in range(4):
        Gadget.objects.using(db).create(
            name=f"gadget {i}",
            weight=0.1 * i + 1 / 3,
            made=None if i == 2 else T0 - datetime.timedelta(days=400 * i),
            span=datetime.timedelta(days=i, seconds=17, microseconds=5) if i != 1 else None,
        )
    if alias == "postgres":
        from django.db.backends.postgresql.psycopg_any import DateTimeTZRange, NumericRange

        for i in range(5):
            Sample.objects.using(db).create(
                label=f"sample {i}",
                values=list(range(i)),
                words=None if i == 3 else ["x" * k for k in range(1, i + 2)],
                ints=NumericRange(i, i * 10 + 1) if i != 2 else None,
                when=DateTimeTZRange(T0, T0 + datetime.timedelta(days=i)) if i % 2 else None,
                amounts=NumericRange(Decimal("1.5"), Decimal(i) + Decimal("2.25")) if i else None,
            )


def unload(alias: str) -> None:
    """Delete the zoo rows from ``alias``."""
    for model in (
        Comment,
        BookTag,
        Book,
        Tag,
        Profile,
        Bistro,
        Restaurant,
        Place,
        Gadget,
        Publisher,
    ):
        model.objects.using(alias).all().delete()
    Author.objects.using(alias).update(mentor=None)
    Author.objects.using(alias).all().delete()
    if alias == "postgres":
        Sample.objects.using(alias).all().delete()
