"""The model zoo for the native shim's differential tests.

Every relation kind and value type the read path must reproduce: FK, O2O, M2M
(with a through model), GenericForeignKey/GenericRelation, JSONField,
multi-table inheritance, custom managers and querysets, Decimal, UUID,
DateTimeField under USE_TZ, and (PostgreSQL only, see ``routers.py``) ArrayField
and range fields.
"""

import uuid

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
