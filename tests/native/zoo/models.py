"""The model zoo for the native shim's differential tests.

Every relation kind and value type the read path must reproduce: FK, O2O, M2M
(with a through model), GenericForeignKey/GenericRelation, JSONField,
multi-table inheritance, custom managers and querysets, Decimal, UUID,
DateTimeField under USE_TZ, and (PostgreSQL only, see ``routers.py``) ArrayField
and range fields. Below them, the write zoo (shops, items, labels...) that only
the write-path tests use.
"""

import itertools
import uuid
from decimal import Decimal

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import (
    ArrayField,
    DateTimeRangeField,
    DecimalRangeField,
    IntegerRangeField,
)
from django.db import models


class Publisher(models.Model):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="FR")

    def __str__(self):
        return self.name


class AuthorQuerySet(models.QuerySet):
    """A custom queryset that adds methods but overrides nothing: runs natively."""

    def prolific(self):
        return self.filter(rating__gte=3)


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    joined = models.DateTimeField()
    rating = models.DecimalField(max_digits=5, decimal_places=2)
    meta = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    mentor = models.ForeignKey("self", models.SET_NULL, null=True, related_name="mentees")

    objects = AuthorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        get_latest_by = "joined"

    def __str__(self):
        return self.name


class Profile(models.Model):
    author = models.OneToOneField(Author, models.CASCADE, related_name="profile")
    bio = models.TextField()
    birthday = models.DateField(null=True)


class Tag(models.Model):
    name = models.SlugField(unique=True)

    def __str__(self):
        return self.name


class PublishedManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(published__isnull=False)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    publisher = models.ForeignKey(Publisher, models.SET_NULL, null=True, related_name="books")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    pages = models.PositiveIntegerField()
    published = models.DateField(null=True)
    isbn = models.UUIDField(default=uuid.uuid4)
    data = models.JSONField(null=True)
    tags = models.ManyToManyField(Tag, through="BookTag", related_name="books")
    comments = GenericRelation("Comment", related_query_name="book")

    objects = models.Manager()
    published_objects = PublishedManager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title


class BookTag(models.Model):
    book = models.ForeignKey(Book, models.CASCADE)
    tag = models.ForeignKey(Tag, models.CASCADE)
    weight = models.IntegerField(default=1)


class Comment(models.Model):
    content_type = models.ForeignKey(ContentType, models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=200)
    posted = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class Place(models.Model):
    name = models.CharField(max_length=100)
    address = models.CharField(max_length=200)


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)
    chef = models.ForeignKey(Author, models.SET_NULL, null=True, related_name="restaurants")


class Bistro(Restaurant):
    stars = models.IntegerField(default=0)


class LoudQuerySet(models.QuerySet):
    """Overrides a sync method: its a-twin must fall back to Django's stock method."""

    def count(self):
        return super().count()


class Gadget(models.Model):
    name = models.CharField(max_length=50)
    weight = models.FloatField()
    made = models.DateTimeField(null=True)
    span = models.DurationField(null=True)

    objects = LoudQuerySet.as_manager()


class Sample(models.Model):
    """PostgreSQL only (ArrayField, ranges): created on the ``postgres`` database alone."""

    label = models.CharField(max_length=50)
    values = ArrayField(models.IntegerField(), default=list)
    words = ArrayField(models.CharField(max_length=20), null=True)
    ints = IntegerRangeField(null=True)
    when = DateTimeRangeField(null=True)
    amounts = DecimalRangeField(null=True)

    class Meta:
        ordering = ["id"]


# --- The write zoo (issue 8): models only the write-path tests touch -----------------------
#
# Their tables are flushed (sequences reset) and reloaded before every run of a
# write case, so that stock and native runs start from the same rows and get the
# same primary keys. Defaults are deterministic for the same reason.

_token_ids = itertools.count(1)


def next_token_id():
    """A deterministic UUID primary key default (``reset_tokens()`` restarts it)."""
    return uuid.UUID(int=next(_token_ids))


def reset_tokens():
    global _token_ids
    _token_ids = itertools.count(1)


class Shop(models.Model):
    name = models.CharField(max_length=50, unique=True)
    city = models.CharField(max_length=50, default="Lyon")
    code = models.CharField(max_length=10, db_default="S-0")
    suppliers = models.ManyToManyField("Supplier", through="Supply", related_name="shops")
    notes = GenericRelation("Note", related_query_name="shop")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class Label(models.Model):
    name = models.CharField(max_length=30, unique=True)
    rank = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]


class Item(models.Model):
    shop = models.ForeignKey(Shop, models.CASCADE, related_name="items")
    name = models.CharField(max_length=50)
    qty = models.IntegerField(default=0)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1.00"))
    note = models.TextField(db_default="none")
    labels = models.ManyToManyField(Label, related_name="items")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="item_unique_per_shop"),
            models.CheckConstraint(condition=models.Q(qty__gte=0), name="item_qty_nonneg"),
        ]


class Supplier(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["id"]


class Supply(models.Model):
    shop = models.ForeignKey(Shop, models.CASCADE)
    supplier = models.ForeignKey(Supplier, models.CASCADE)
    terms = models.CharField(max_length=20, default="net30")

    class Meta:
        ordering = ["id"]


class Ticket(models.Model):
    shop = models.ForeignKey(Shop, models.SET_NULL, null=True, related_name="tickets")
    title = models.CharField(max_length=50)

    class Meta:
        ordering = ["id"]


class Guard(models.Model):
    shop = models.ForeignKey(Shop, models.PROTECT, null=True, related_name="guards")
    name = models.CharField(max_length=50)


class Lock(models.Model):
    item = models.ForeignKey(Item, models.RESTRICT, related_name="locks")
    name = models.CharField(max_length=50)


class Note(models.Model):
    content_type = models.ForeignKey(ContentType, models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=50)

    class Meta:
        ordering = ["id"]


class Token(models.Model):
    id = models.UUIDField(primary_key=True, default=next_token_id)
    label = models.CharField(max_length=20)


class Venue(models.Model):
    name = models.CharField(max_length=50)


class Hall(Venue):
    seats = models.IntegerField(default=0)


class Stage(Hall):
    height = models.IntegerField(default=1)


class Step(models.Model):
    shop = models.ForeignKey(Shop, models.CASCADE, related_name="steps")
    text = models.CharField(max_length=50)

    class Meta:
        order_with_respect_to = "shop"


class Tally(models.Model):
    name = models.CharField(max_length=20)
    count = models.IntegerField(default=0)

    class Meta:
        select_on_save = True


class Event(models.Model):
    day = models.DateField()
    slug = models.SlugField(unique_for_date="day")
    shop = models.ForeignKey(Shop, models.CASCADE, null=True, related_name="events")
