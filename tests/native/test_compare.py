"""The differential tests' comparator finds the differences it must find."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest

from .compare import Raised, assert_same
from .zoo.models import Author, Book, Tag

UID = uuid.UUID(int=7)


def author(**overrides: object) -> Author:
    values = dict(pk=1, name="Ada", email="a@x", rating=Decimal("4.50"), meta={"a": 1}, uid=UID)
    values.update(overrides)
    obj = Author(**values)
    obj._state.adding = False
    obj._state.db = "default"
    return obj


@pytest.mark.parametrize(
    ("stock", "native"),
    [
        (author(), author(name="Bob")),
        (author(), author(rating=Decimal("4.5"))),  # same number, different exponent
        (author(meta={"a": 1}), author(meta={"a": 1.0})),
        ([author()], [author(), author()]),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # key order is part of a values() dict
        (1, True),
        (datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2024, 1, 1)),
        (Raised(ValueError("x")), Raised(ValueError("y"))),
        (Raised(ValueError("x")), Raised(TypeError("x"))),
        (Raised(ValueError("x")), None),
    ],
)
def test_differences_are_found(stock: object, native: object) -> None:
    with pytest.raises(AssertionError):
        assert_same(stock, native)


def test_state_and_caches_are_compared() -> None:
    a, b = author(), author()
    b._state.db = "postgres"
    with pytest.raises(AssertionError, match=r"_state\.db"):
        assert_same(a, b)
    a, b = author(), author()
    a._state.fields_cache["profile"] = None
    with pytest.raises(AssertionError, match="fields_cache"):
        assert_same(a, b)
    a, b = author(), author()
    a._prefetched_objects_cache = {"books": Book.objects.none()}
    b._prefetched_objects_cache = {}
    with pytest.raises(AssertionError, match="prefetched"):
        assert_same(a, b)


def test_sharing_is_compared() -> None:
    shared = Tag(pk=1, name="sf")
    with pytest.raises(AssertionError, match="reuses"):
        assert_same([shared, shared], [Tag(pk=1, name="sf"), Tag(pk=1, name="sf")])
    assert_same([shared, shared], [t := Tag(pk=1, name="sf"), t])


def test_equal_results_pass() -> None:
    assert_same([author(), {"x": Decimal("1.0")}], [author(), {"x": Decimal("1.0")}])
