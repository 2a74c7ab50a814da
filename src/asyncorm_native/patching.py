"""``install()`` / ``uninstall()``: swap Django's a-methods for native ones (writes: ``writes.py``).

Each native method is thin: check that the call can run natively (else call
Django's stock method and count why), then run the method's plan on the async
driver. A plan that meets something it cannot do natively (``Unsupported``,
or a Django helper needing sync I/O) before handing out any result falls back
to the stock method too: reads have no side effects, so the answer is Django's.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import django
from django.core.exceptions import ImproperlyConfigured, SynchronousOnlyOperation
from django.core.signals import setting_changed
from django.db import NotSupportedError, connections
from django.db import models as django_models
from django.db.models import query as django_query
from django.db.models.query import QuerySet, RawQuerySet

from . import pools, related_managers, reporting, router, transactions, writes
from .drivers import base
from .plans import Unsupported, intercept, prefetch, queryset, raw, rows
from .steps import Plan

SUPPORTED_DJANGO = (5, 2)
_lock = threading.Lock()
_stock: dict[str, Any] = {}

#: Sync methods a QuerySet subclass may override to change what an a-method does.
_EVALUATION = ("_fetch_all", "__iter__", "__len__", "_prefetch_related_objects")
_TWINS: dict[str, tuple[str, ...]] = {
    "aget": ("get", *_EVALUATION),
    "afirst": ("first", *_EVALUATION),
    "alast": ("last", *_EVALUATION),
    "aearliest": ("earliest", "_earliest", "get", *_EVALUATION),
    "alatest": ("latest", "_earliest", "get", *_EVALUATION),
    "acount": ("count",),
    "aexists": ("exists",),
    "acontains": ("contains", "exists"),
    "aaggregate": ("aggregate",),
    "ain_bulk": ("in_bulk", *_EVALUATION),
    "aiterator": (),
    "__aiter__": ("_fetch_all", "_prefetch_related_objects"),
}
_RAW_TWINS = ("_fetch_all", "iterator", "_prefetch_related_objects")
_override_cache: dict[tuple[type, str], str | None] = {}


def _overridden(cls: type, method: str, base_cls: type, names: tuple[str, ...]) -> str | None:
    key = (cls, method)
    try:
        return _override_cache[key]
    except KeyError:
        pass
    kind = None
    for name in names:
        if getattr(cls, name, None) is not getattr(base_cls, name, None):
            kind = f"{cls.__qualname__} overrides {name}()"
            break
    _override_cache[key] = kind
    return kind


def _blocked(qs: Any, method: str) -> str | None:
    """Why ``qs.<method>()`` cannot run natively, or None."""
    cls = type(qs)
    if cls is not QuerySet:
        kind = _overridden(cls, method, QuerySet, _TWINS[method])
        if kind:
            return kind
    alias = qs.db
    try:
        pools.check_supported(alias)
    except Unsupported as exc:
        return exc.kind
    if qs.query.select_for_update and not _in_native_block(alias):
        # Django checks the transaction state of the connection it compiles on,
        # which must be the one holding the lock: the stock method's thread.
        # Inside asyncorm_native.atomic() the lock is taken natively, in the block.
        return "select_for_update()"
    return None


def _in_native_block(alias: str | None) -> bool:
    pinned = transactions.pinned_for(alias) if alias is not None else None
    return pinned is not None and pinned.open


def _fallback(method: str, alias: str | None, kind: str) -> None:
    """Count a fallback; inside ``asyncorm_native.atomic()`` refuse it (it would miss the block)."""
    if _in_native_block(alias):
        raise NotSupportedError(
            f"asyncorm_native: {method}() cannot run natively ({kind}), and Django's stock "
            f"method would not see this asyncorm_native.atomic(using={alias!r}) block's "
            "transaction. Run it outside the block."
        )
    reporting.fallback(method, kind)


@contextmanager
def _locking_in_block(qs: Any) -> Iterator[None]:
    """Compile a ``select_for_update()`` queryset as inside the native block it runs in."""
    if not qs.query.select_for_update:
        yield
        return
    from .plans.lookup_or_create import in_transaction_class

    query = qs.query
    original = type(query)
    query.__class__ = in_transaction_class(original)
    try:
        yield
    finally:
        query.__class__ = original


def _fallback_kind(exc: BaseException) -> str:
    if isinstance(exc, Unsupported):
        return exc.kind
    return f"a Django helper needed synchronous I/O ({exc})"


async def _call(
    method: str,
    alias: str | None,
    plan: Callable[[], Plan[Any]],
    stock: Callable[[], Awaitable[Any]],
) -> Any:
    """Run ``plan`` natively; on a fallback request run ``stock`` instead."""
    try:
        if alias is not None and not pools.prepared(alias):
            await pools.prepare(alias)
        result = await base.run(plan(), router.acquire)
    except (Unsupported, SynchronousOnlyOperation) as exc:
        _fallback(method, alias, _fallback_kind(exc))
        return await stock()
    except BaseException:
        reporting.native(method)  # it ran natively, and raised what Django raises
        raise
    reporting.native(method)
    return result


async def _native(qs: Any, name: str, plan: Callable[[], Plan[Any]], stock: Any) -> Any:
    """Shared body of the native value methods: route, run, or fall back."""
    kind = _blocked(qs, name)
    if kind is not None:
        _fallback(name, qs.db, kind)
        return await stock()
    with _locking_in_block(qs):
        return await _call(name, qs.db, plan, stock)


# The native methods have Django's exact signatures, so a bad call raises the
# very TypeError Django's would (tests/native/test_setup.py compares them).


async def aget(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Native ``QuerySet.aget()``: see ``QuerySet.get()``."""
    return await _native(
        self,
        "aget",
        lambda: queryset.get(self, args, kwargs),
        lambda: _stock["aget"](self, *args, **kwargs),
    )


async def afirst(self: Any) -> Any:
    """Native ``QuerySet.afirst()``: see ``QuerySet.first()``."""
    return await _native(
        self, "afirst", lambda: queryset.first(self), lambda: _stock["afirst"](self)
    )


async def alast(self: Any) -> Any:
    """Native ``QuerySet.alast()``: see ``QuerySet.last()``."""
    return await _native(self, "alast", lambda: queryset.last(self), lambda: _stock["alast"](self))


async def aearliest(self: Any, *fields: Any) -> Any:
    """Native ``QuerySet.aearliest()``: see ``QuerySet.earliest()``."""
    return await _native(
        self,
        "aearliest",
        lambda: queryset.earliest(self, fields),
        lambda: _stock["aearliest"](self, *fields),
    )


async def alatest(self: Any, *fields: Any) -> Any:
    """Native ``QuerySet.alatest()``: see ``QuerySet.latest()``."""
    return await _native(
        self,
        "alatest",
        lambda: queryset.latest(self, fields),
        lambda: _stock["alatest"](self, *fields),
    )


async def acount(self: Any) -> Any:
    """Native ``QuerySet.acount()``: see ``QuerySet.count()``."""
    return await _native(
        self, "acount", lambda: queryset.count(self), lambda: _stock["acount"](self)
    )


async def aexists(self: Any) -> Any:
    """Native ``QuerySet.aexists()``: see ``QuerySet.exists()``."""
    return await _native(
        self, "aexists", lambda: queryset.exists(self), lambda: _stock["aexists"](self)
    )


async def acontains(self: Any, obj: Any) -> Any:
    """Native ``QuerySet.acontains()``: see ``QuerySet.contains()``."""
    return await _native(
        self,
        "acontains",
        lambda: queryset.contains(self, obj),
        lambda: _stock["acontains"](self, obj),
    )


async def aaggregate(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Native ``QuerySet.aaggregate()``: see ``QuerySet.aggregate()``."""
    return await _native(
        self,
        "aaggregate",
        lambda: queryset.aggregate(self, args, kwargs),
        lambda: _stock["aaggregate"](self, *args, **kwargs),
    )


async def ain_bulk(self: Any, id_list: Any = None, *, field_name: str = "pk") -> Any:
    """Native ``QuerySet.ain_bulk()``: see ``QuerySet.in_bulk()``."""
    return await _native(
        self,
        "ain_bulk",
        lambda: queryset.in_bulk(self, id_list, field_name),
        lambda: _stock["ain_bulk"](self, id_list=id_list, field_name=field_name),
    )


_VALUE_METHODS: dict[str, Callable[..., Any]] = {
    function.__name__: function
    for function in (
        aget,
        afirst,
        alast,
        aearliest,
        alatest,
        acount,
        aexists,
        acontains,
        aaggregate,
        ain_bulk,
    )
}


def __aiter__(self: Any) -> AsyncIterator[Any]:
    """Native ``async for obj in queryset`` (asyncorm_native)."""
    return _aiter_results(self)


async def _aiter_results(qs: Any) -> AsyncIterator[Any]:
    stock = _stock["__aiter__"]

    async def stock_list() -> list[Any]:
        return [item async for item in stock(qs)]

    kind = _blocked(qs, "__aiter__")
    if kind is not None:
        _fallback("__aiter__", qs.db, kind)
        results = await stock_list()
    else:
        results = await _call("__aiter__", qs.db, lambda: rows.evaluate(qs), stock_list)
    for item in results:
        yield item


async def aiterator(self: Any, chunk_size: int = 2000) -> AsyncIterator[Any]:
    """Native ``QuerySet.aiterator()`` (asyncorm_native): server-side cursor on PostgreSQL."""
    if chunk_size <= 0:
        reporting.native("aiterator")
        raise ValueError("Chunk size must be strictly positive.")
    stock = _stock["aiterator"]
    kind = _blocked(self, "aiterator")
    if kind is None:
        use_chunked_fetch = not connections[self.db].settings_dict.get(
            "DISABLE_SERVER_SIDE_CURSORS"
        )
        emitted = False
        try:
            if not pools.prepared(self.db):
                await pools.prepare(self.db)
            plan = rows.stream(self, use_chunked_fetch, chunk_size, self._prefetch_related_lookups)
            async for item in base.iterate(plan, router.acquire):
                if not emitted:
                    emitted = True
                    reporting.native("aiterator")
                yield item
            if not emitted:
                reporting.native("aiterator")
            return
        except (Unsupported, SynchronousOnlyOperation) as exc:
            if emitted:
                raise NotSupportedError(
                    "asyncorm_native could not continue aiterator() natively after "
                    f"the first results: {_fallback_kind(exc)}"
                ) from exc
            kind = _fallback_kind(exc)
    _fallback("aiterator", self.db, kind)
    async for item in stock(self, chunk_size=chunk_size):
        yield item


def _raw_aiter(self: Any) -> AsyncIterator[Any]:
    """Native ``async for obj in Model.objects.raw(...)`` (asyncorm_native)."""
    return _raw_results(self)


async def _raw_results(raw_qs: Any) -> AsyncIterator[Any]:
    stock = _stock["RawQuerySet.__aiter__"]

    async def stock_list() -> list[Any]:
        return [item async for item in stock(raw_qs)]

    cls = type(raw_qs)
    kind = None
    if cls is not RawQuerySet:
        kind = _overridden(cls, "__aiter__", RawQuerySet, _RAW_TWINS)
    if kind is None:
        try:
            pools.check_supported(raw_qs.db)
        except Unsupported as exc:
            kind = exc.kind
    if kind is not None:
        _fallback("RawQuerySet.__aiter__", raw_qs.db, kind)
        results = await stock_list()
    else:
        results = await _call(
            "RawQuerySet.__aiter__", raw_qs.db, lambda: raw.evaluate_raw(raw_qs), stock_list
        )
    for item in results:
        yield item


async def aprefetch_related_objects(model_instances: Any, *related_lookups: Any) -> None:
    """Native ``aprefetch_related_objects()``: the prefetch queries run on the async driver."""
    stock = _stock.get("aprefetch_related_objects", django_query.aprefetch_related_objects)
    try:
        alias = model_instances[0]._state.db
    except (IndexError, TypeError, AttributeError, KeyError):
        alias = None
    return await _call(
        "aprefetch_related_objects",
        alias,
        lambda: prefetch.prefetch_related_objects(model_instances, *related_lookups),
        lambda: stock(model_instances, *related_lookups),
    )


def is_installed() -> bool:
    return bool(_stock)


_sync_installed = False


def install(sync: bool = False) -> None:
    """Replace Django's read a-methods with native ones (idempotent).

    ``sync=True`` also routes Django's sync ORM methods through the same plans,
    on Django's own connection (``sync_routes``).
    """
    global _sync_installed
    if django.VERSION[:2] != SUPPORTED_DJANGO:
        raise ImproperlyConfigured(
            "asyncorm_native follows Django {}.{}'s ORM internals; Django {} is installed. "
            "Do not call install() (or set ASYNCORM_NATIVE['INSTALL'] = False).".format(
                *SUPPORTED_DJANGO, django.get_version()
            )
        )
    if _stock and _sync_installed != sync:
        uninstall()
    with _lock:
        if _stock:
            return
        for name in (*_VALUE_METHODS, "aiterator", "__aiter__"):
            _stock[name] = QuerySet.__dict__[name]
        _stock["RawQuerySet.__aiter__"] = RawQuerySet.__dict__["__aiter__"]
        _stock["aprefetch_related_objects"] = django_query.aprefetch_related_objects

        for name, method in _VALUE_METHODS.items():
            method.__qualname__ = f"QuerySet.{name}"
            setattr(QuerySet, name, method)
        aiterator.__qualname__ = "QuerySet.aiterator"
        __aiter__.__qualname__ = "QuerySet.__aiter__"
        QuerySet.aiterator = aiterator
        QuerySet.__aiter__ = __aiter__
        RawQuerySet.__aiter__ = _raw_aiter
        django_query.aprefetch_related_objects = aprefetch_related_objects
        django_models.aprefetch_related_objects = aprefetch_related_objects
        writes.install()
        related_managers.install(sync)
        if sync:
            from . import sync_routes

            sync_routes.install()
        _sync_installed = sync
        intercept.ensure_hook()
        router.start_tracking()
        setting_changed.connect(pools.retire_pools, dispatch_uid="asyncorm_native.pools")


def uninstall() -> None:
    """Give Django its stock methods back (open pools stay until ``close_pools()``)."""
    global _sync_installed
    with _lock:
        if not _stock:
            return
        for name in (*_VALUE_METHODS, "aiterator", "__aiter__"):
            setattr(QuerySet, name, _stock[name])
        RawQuerySet.__aiter__ = _stock["RawQuerySet.__aiter__"]
        django_query.aprefetch_related_objects = _stock["aprefetch_related_objects"]
        django_models.aprefetch_related_objects = _stock["aprefetch_related_objects"]
        writes.uninstall()
        related_managers.uninstall()
        if _sync_installed:
            from . import sync_routes

            sync_routes.uninstall()
            _sync_installed = False
        intercept.remove_hook()
        router.stop_tracking()
        setting_changed.disconnect(dispatch_uid="asyncorm_native.pools")
        _stock.clear()
        _override_cache.clear()
