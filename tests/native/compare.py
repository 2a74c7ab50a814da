"""Structural equality of ORM results: instances, their caches, values, exceptions.

``assert_same(stock, native)`` walks both results in parallel and fails with
the path of the first difference. Model instances compare by class, field
values (``__dict__``), ``_state`` (db, adding), the select_related/prefetch
caches, and *sharing*: when one stock object is reached twice, the native
object reached by the same paths must be one object as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.query import QuerySet


class Raised:
    """An exception outcome: its type and message."""

    def __init__(self, exc: BaseException) -> None:
        self.type = type(exc)
        self.message = str(exc)

    def __repr__(self) -> str:
        return f"Raised({self.type.__name__}: {self.message})"


def _scalar_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return a == b and a.as_tuple().exponent == b.as_tuple().exponent
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if hasattr(a, "tzinfo") and hasattr(a, "utcoffset"):
        return a == b and a.utcoffset() == b.utcoffset() and a.tzinfo == b.tzinfo
    return a == b


class _Walker:
    def __init__(self) -> None:
        self.pairs: dict[int, int] = {}  # id(stock object) -> id(native object)
        self.keep: list[Any] = []  # keep objects alive so ids stay unique

    def fail(self, path: str, message: str) -> None:
        raise AssertionError(f"at {path or '<result>'}: {message}")

    def same(self, stock: Any, native: Any, path: str) -> None:
        if isinstance(stock, Raised) or isinstance(native, Raised):
            if not (isinstance(stock, Raised) and isinstance(native, Raised)):
                self.fail(path, f"stock {stock!r} vs native {native!r}")
            if stock.type is not native.type or stock.message != native.message:
                self.fail(path, f"stock {stock!r} vs native {native!r}")
            return
        if type(stock) is not type(native):
            self.fail(
                path,
                f"type {type(stock).__name__} vs {type(native).__name__}: {stock!r} / {native!r}",
            )
        if isinstance(stock, models.Model):
            self.instance(stock, native, path)
        elif isinstance(stock, QuerySet):
            if stock.model is not native.model:
                self.fail(path, f"queryset of {stock.model} vs {native.model}")
            self.same(stock._result_cache, native._result_cache, path + "._result_cache")
        elif isinstance(stock, tuple) and hasattr(stock, "_fields"):
            if stock._fields != native._fields:
                self.fail(path, f"namedtuple fields {stock._fields} vs {native._fields}")
            self.sequence(stock, native, path)
        elif isinstance(stock, list | tuple):
            self.sequence(stock, native, path)
        elif isinstance(stock, Mapping):
            if list(stock) != list(native):
                self.fail(path, f"keys {list(stock)} vs {list(native)}")
            for key in stock:
                self.same(stock[key], native[key], f"{path}[{key!r}]")
        elif isinstance(stock, set | frozenset):
            if stock != native:
                self.fail(path, f"{stock!r} vs {native!r}")
        elif not _scalar_equal(stock, native):
            self.fail(path, f"{stock!r} vs {native!r}")

    def sequence(self, stock: Any, native: Any, path: str) -> None:
        if len(stock) != len(native):
            self.fail(path, f"length {len(stock)} vs {len(native)}: {stock!r} / {native!r}")
        for i, (a, b) in enumerate(zip(stock, native, strict=True)):
            self.same(a, b, f"{path}[{i}]")

    def instance(self, stock: models.Model, native: models.Model, path: str) -> None:
        seen = self.pairs.get(id(stock))
        if seen is not None:
            if seen != id(native):
                self.fail(path, "stock reuses one object here, native has a different one")
            return
        if id(native) in self.pairs.values():
            self.fail(path, "native reuses an object that stock does not")
        self.pairs[id(stock)] = id(native)
        self.keep += [stock, native]
        for attr in ("db", "adding"):
            if getattr(stock._state, attr) != getattr(native._state, attr):
                self.fail(
                    path,
                    f"_state.{attr} {getattr(stock._state, attr)!r}"
                    f" vs {getattr(native._state, attr)!r}",
                )
        stock_fields = {
            k: v
            for k, v in stock.__dict__.items()
            if k not in ("_state", "_prefetched_objects_cache")
        }
        native_fields = {
            k: v
            for k, v in native.__dict__.items()
            if k not in ("_state", "_prefetched_objects_cache")
        }
        if sorted(stock_fields) != sorted(native_fields):
            self.fail(path, f"attributes {sorted(stock_fields)} vs {sorted(native_fields)}")
        for key in sorted(stock_fields):
            self.same(stock_fields[key], native_fields[key], f"{path}.{key}")
        stock_cache, native_cache = stock._state.fields_cache, native._state.fields_cache
        if sorted(stock_cache) != sorted(native_cache):
            self.fail(path, f"fields_cache {sorted(stock_cache)} vs {sorted(native_cache)}")
        for key in sorted(stock_cache):
            self.same(stock_cache[key], native_cache[key], f"{path}<{key}>")
        stock_pf = getattr(stock, "_prefetched_objects_cache", None)
        native_pf = getattr(native, "_prefetched_objects_cache", None)
        if (stock_pf is None) != (native_pf is None):
            self.fail(path, f"_prefetched_objects_cache {stock_pf!r} vs {native_pf!r}")
        if stock_pf is not None:
            if sorted(stock_pf) != sorted(native_pf):
                self.fail(path, f"prefetched {sorted(stock_pf)} vs {sorted(native_pf)}")
            for key in sorted(stock_pf):
                self.same(stock_pf[key], native_pf[key], f"{path}<prefetched {key}>")


def assert_same(stock: Any, native: Any) -> None:
    """Fail with the path of the first difference between two ORM results."""
    _Walker().same(stock, native, "")
