"""``install(sync=True)``: Django's sync ORM methods run the shim's plans on the sync driver.

The a-methods run a plan on the async driver. With ``sync=True``, Django's own
sync methods (``get()``, iteration, ``count()``, ``iterator()``, ``save()``,
``bulk_create()``, the related managers' ``add()``...) run the very same plans
through ``drivers.django_sync`` on Django's connection, in the caller's
transaction: one I/O-free core, two drivers. This is how Django's own sync
test suites judge that core (``scripts/django_suite.py``).

Each route is the a-method's rule made sync: the same checks (a subclass
overriding the sync code the plan mirrors, a backend without a driver) and the
same fallback (``writes.run_write``), counted in ``asyncorm_native.report()``
under the sync method's name. A route called while a plan runs Django's own
code up to its SQL (``plans.intercept``) is Django's method.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import SynchronousOnlyOperation
from django.db import NotSupportedError, router
from django.db import models as django_models
from django.db.models import Model
from django.db.models import query as django_query
from django.db.models.query import QuerySet, RawQuerySet
from django.db.models.sql import compiler as sql_compiler

from . import reporting, writes
from .drivers import django_sync
from .patching import _RAW_TWINS, _TWINS
from .plans import (
    Unsupported,
    bulk,
    delete,
    intercept,
    lookup_or_create,
    prefetch,
    queryset,
    raw,
    refresh,
    related,
    rows,
    save,
)
from .steps import Plan

_stock: dict[tuple[type, str], Any] = {}
_CURSOR_ITER = sql_compiler.cursor_iter  # what Django's iterator() streams with
_PREFETCH_MODULES = (django_query, django_models)


def _intercepting() -> bool:
    return intercept._interceptor.get() is not None


def run(
    method: str,
    alias: str | None,
    block: str | None,
    plan: Callable[[], Plan[Any]],
    stock: Callable[[], Any],
) -> Any:
    """Run ``plan`` on Django's connection for ``method``, or Django's ``stock`` when it cannot."""

    async def stock_call() -> Any:
        return stock()

    return django_sync.complete(writes.run_write(method, alias, block, plan, stock_call, sync=True))


def _minus(names: tuple[str, ...], own: str) -> tuple[str, ...]:
    """The twins of an a-method, without the sync method the route itself replaces."""
    return tuple(name for name in names if name != own)


def _qs_block(qs: Any, names: tuple[str, ...]) -> str | None:
    return writes._queryset_block(qs, names)


# --- QuerySet reads ---------------------------------------------------------------------------


def _read(
    qs: Any,
    name: str,
    plan: Callable[[], Plan[Any]],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """A read route: the twins of ``a<name>`` are checked, Django's ``name`` is the stock.

    ``args``/``kwargs`` are the call's, for the stock method (a field may be named ``name``).
    """
    kwargs = kwargs or {}
    stock = _stock[QuerySet, name]
    if _intercepting():
        return stock(qs, *args, **kwargs)
    return run(
        name,
        qs.db,
        _qs_block(qs, _minus(_TWINS[f"a{name}"], name)),
        plan,
        lambda: stock(qs, *args, **kwargs),
    )


def get(self: Any, *args: Any, **kwargs: Any) -> Any:
    return _read(self, "get", lambda: queryset.get(self, args, kwargs), args, kwargs)


def first(self: Any) -> Any:
    return _read(self, "first", lambda: queryset.first(self))


def last(self: Any) -> Any:
    return _read(self, "last", lambda: queryset.last(self))


def earliest(self: Any, *fields: Any) -> Any:
    return _read(self, "earliest", lambda: queryset.earliest(self, fields), fields)


def latest(self: Any, *fields: Any) -> Any:
    return _read(self, "latest", lambda: queryset.latest(self, fields), fields)


def count(self: Any) -> Any:
    if self._result_cache is not None:  # Django answers from the cache
        return _stock[QuerySet, "count"](self)
    return _read(self, "count", lambda: queryset.count(self))


def exists(self: Any) -> Any:
    if self._result_cache is not None:
        return _stock[QuerySet, "exists"](self)
    return _read(self, "exists", lambda: queryset.exists(self))


def contains(self: Any, obj: Any) -> Any:
    return _read(self, "contains", lambda: queryset.contains(self, obj), (obj,))


def aggregate(self: Any, *args: Any, **kwargs: Any) -> Any:
    return _read(self, "aggregate", lambda: queryset.aggregate(self, args, kwargs), args, kwargs)


def in_bulk(self: Any, id_list: Any = None, *, field_name: str = "pk") -> Any:
    return _read(
        self,
        "in_bulk",
        lambda: queryset.in_bulk(self, id_list, field_name),
        (id_list,),
        {"field_name": field_name},
    )


def _fetch_all(self: Any) -> None:
    """Iteration, ``len()``, ``bool()``, ``list()``, indexing: ``rows.evaluate``."""
    stock = _stock[QuerySet, "_fetch_all"]
    if self._result_cache is not None and (
        self._prefetch_done or not self._prefetch_related_lookups
    ):
        return None  # nothing left to fetch
    if _intercepting():
        return stock(self)
    run(
        "_fetch_all",
        self.db,
        _qs_block(self, _minus(_TWINS["__aiter__"], "_fetch_all")),
        lambda: rows.evaluate(self),
        lambda: stock(self),
    )
    return None


def _iterator(self: Any, use_chunked_fetch: bool, chunk_size: int | None) -> Iterator[Any]:
    """``QuerySet.iterator()``'s generator: ``rows.stream`` (server-side cursor on PostgreSQL)."""
    stock = _stock[QuerySet, "_iterator"]
    if _intercepting():
        yield from stock(self, use_chunked_fetch, chunk_size)
        return
    kind = _qs_block(self, _minus(_TWINS["aiterator"], "_iterator"))
    if kind is None and sql_compiler.cursor_iter is not _CURSOR_ITER:
        kind = "django.db.models.sql.compiler.cursor_iter is replaced"  # mock.patch()
    if kind is None:
        try:
            writes.pools.check_supported(self.db)
        except Unsupported as exc:
            kind = exc.kind
    if kind is None:
        # Django prefetches chunk by chunk only when a chunk size was given.
        lookups = self._prefetch_related_lookups if chunk_size is not None else ()
        plan = rows.stream(self, use_chunked_fetch, chunk_size or 2000, lookups)
        emitted = False
        try:
            for item in django_sync.iterate(plan):
                emitted = True
                yield item
        except (Unsupported, SynchronousOnlyOperation) as exc:
            if emitted:
                reporting.native("_iterator")
                raise NotSupportedError(
                    "asyncorm_native could not continue iterator() natively after the first "
                    f"results: {writes._fallback_kind(exc)}"
                ) from exc
            kind = writes._fallback_kind(exc)
        else:
            reporting.native("_iterator")
            return
    reporting.fallback("_iterator", kind)
    yield from stock(self, use_chunked_fetch, chunk_size)


def raw_fetch_all(self: Any) -> None:
    """Iterating ``Model.objects.raw(...)``: ``raw.evaluate_raw``."""
    stock = _stock[RawQuerySet, "_fetch_all"]
    if self._result_cache is not None and (
        self._prefetch_done or not self._prefetch_related_lookups
    ):
        return None
    if _intercepting():
        return stock(self)
    cls = type(self)
    block = (
        None
        if cls is RawQuerySet
        else writes._override(cls, RawQuerySet, _minus(_RAW_TWINS, "_fetch_all"))
    )
    plan = raw.evaluate_raw
    run("RawQuerySet._fetch_all", self.db, block, lambda: plan(self), lambda: stock(self))
    return None


def prefetch_related_objects(model_instances: Any, *related_lookups: Any) -> None:
    """``prefetch_related_objects()``: the prefetch queries through ``plans.prefetch``."""
    stock = _stock[Model, "prefetch_related_objects"]
    if _intercepting() or not model_instances:
        return stock(model_instances, *related_lookups)
    alias = getattr(getattr(model_instances[0], "_state", None), "db", None)
    return run(
        "prefetch_related_objects",
        alias,
        None,
        lambda: prefetch.prefetch_related_objects(model_instances, *related_lookups),
        lambda: stock(model_instances, *related_lookups),
    )


# --- Model and QuerySet writes ----------------------------------------------------------------

_BELOW_SAVE = _minus(save.MIRRORED, "save")


def model_save(
    self: Any,
    *args: Any,
    force_insert: Any = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Any = None,
) -> None:
    stock = _stock[Model, "save"]
    if args:  # Django's deprecation warning, pointing at the caller (stacklevel=3)
        force_insert, force_update, using, update_fields = self._parse_save_params(
            *args,
            method_name="save",
            force_insert=force_insert,
            force_update=force_update,
            using=using,
            update_fields=update_fields,
        )
    options = {
        "force_insert": force_insert,
        "force_update": force_update,
        "using": using,
        "update_fields": update_fields,
    }
    if _intercepting():
        return stock(self, **options)
    return run(
        "Model.save",
        using or router.db_for_write(self.__class__, instance=self),
        writes._instance_block(self, _BELOW_SAVE) or writes._base_queryset_block(type(self)),
        lambda: save.model_save(self, force_insert, force_update, using, update_fields),
        lambda: stock(self, **options),
    )


def model_delete(self: Any, using: str | None = None, keep_parents: bool = False) -> Any:
    stock = _stock[Model, "delete"]
    if _intercepting():
        return stock(self, using, keep_parents)
    return run(
        "Model.delete",
        using or router.db_for_write(self.__class__, instance=self),
        None,
        lambda: delete.delete_instance(self, using, keep_parents),
        lambda: stock(self, using=using, keep_parents=keep_parents),
    )


def refresh_from_db(
    self: Any, using: str | None = None, fields: Any = None, from_queryset: Any = None
) -> None:
    stock = _stock[Model, "refresh_from_db"]
    if _intercepting():
        return stock(self, using, fields, from_queryset)
    return run(
        "Model.refresh_from_db",
        refresh.alias_for(self, using, from_queryset),
        None,
        lambda: refresh.refresh_from_db(self, using, fields, from_queryset),
        lambda: stock(self, using=using, fields=fields, from_queryset=from_queryset),
    )


def _write(
    qs: Any,
    name: str,
    block: str | None,
    plan: Callable[[], Plan[Any]],
    args: tuple[Any, ...] = (),
    kw: dict[str, Any] | None = None,
) -> Any:
    """A write route on a QuerySet; ``args``/``kw`` are the call's, for the stock method."""
    kw = kw or {}
    stock = _stock[QuerySet, name]
    if _intercepting():
        return stock(qs, *args, **kw)
    return run(name, writes._write_db(qs), block, plan, lambda: stock(qs, *args, **kw))


def create(self: Any, **kwargs: Any) -> Any:
    block = writes._create_block(self, ())
    return _write(self, "create", block, lambda: save.create(self, kwargs), (), kwargs)


def update(self: Any, **kwargs: Any) -> int:
    return _write(self, "update", None, lambda: delete.update(self, kwargs), (), kwargs)


def qs_delete(self: Any) -> Any:
    block = _qs_block(self, ("_raw_delete",))
    return _write(self, "delete", block, lambda: delete.delete_queryset(self))


def bulk_create(
    self: Any,
    objs: Any,
    batch_size: int | None = None,
    ignore_conflicts: bool = False,
    update_conflicts: bool = False,
    update_fields: Any = None,
    unique_fields: Any = None,
) -> Any:
    args = (objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields)
    return _write(
        self,
        "bulk_create",
        _qs_block(self, ("_batched_insert", "_insert", "_prepare_for_bulk_create")),
        lambda: bulk.bulk_create(self, *args),
        args,
    )


def bulk_update(self: Any, objs: Any, fields: Any, batch_size: int | None = None) -> int:
    return _write(
        self,
        "bulk_update",
        _qs_block(self, ("update", "filter")),
        lambda: bulk.bulk_update(self, objs, fields, batch_size),
        (objs, fields, batch_size),
    )


def get_or_create(self: Any, defaults: Any = None, **kwargs: Any) -> Any:
    return _write(
        self,
        "get_or_create",
        writes._create_block(self, ("create", *writes._GET_TWINS)),
        lambda: lookup_or_create.get_or_create(self, defaults, kwargs),
        (defaults,),
        kwargs,
    )


def update_or_create(
    self: Any, defaults: Any = None, create_defaults: Any = None, **kwargs: Any
) -> Any:
    return _write(
        self,
        "update_or_create",
        writes._create_block(
            self, ("get_or_create", "select_for_update", "create", *writes._GET_TWINS)
        ),
        lambda: lookup_or_create.update_or_create(self, defaults, create_defaults, kwargs),
        (defaults, create_defaults),
        kwargs,
    )


_QUERYSET_ROUTES: dict[str, Callable[..., Any]] = {
    "get": get,
    "first": first,
    "last": last,
    "earliest": earliest,
    "latest": latest,
    "count": count,
    "exists": exists,
    "contains": contains,
    "aggregate": aggregate,
    "in_bulk": in_bulk,
    "_fetch_all": _fetch_all,
    "_iterator": _iterator,
    "create": create,
    "update": update,
    "delete": qs_delete,
    "bulk_create": bulk_create,
    "bulk_update": bulk_update,
    "get_or_create": get_or_create,
    "update_or_create": update_or_create,
}
_MODEL_ROUTES: dict[str, Callable[..., Any]] = {
    "save": model_save,
    "delete": model_delete,
    "refresh_from_db": refresh_from_db,
}


# --- Related managers -------------------------------------------------------------------------

#: Per manager kind, each sync method's plan, built from the method's own arguments:
#: ``make(cls, manager, *args, **kwargs)`` has Django's signature, so a bad call raises
#: Django's TypeError before anything runs.
M2M_PLANS: dict[str, Callable[..., Plan[Any]]] = {
    "add": lambda cls, m, *objs, through_defaults=None: related.m2m_add(
        cls, m, objs, through_defaults
    ),
    "remove": lambda cls, m, *objs: related.m2m_remove(cls, m, objs),
    "clear": lambda cls, m: related.m2m_clear(cls, m),
    "set": lambda cls, m, objs, *, clear=False, through_defaults=None: related.m2m_set(
        cls, m, objs, clear, through_defaults
    ),
    "create": lambda cls, m, *, through_defaults=None, **kw: related.m2m_create(
        cls, m, through_defaults, kw
    ),
    "get_or_create": lambda cls, m, *, through_defaults=None, **kw: related.m2m_get_or_create(
        cls, m, through_defaults, kw, False
    ),
    "update_or_create": lambda cls, m, *, through_defaults=None, **kw: (
        related.m2m_get_or_create(cls, m, through_defaults, kw, True)
    ),
}
def bulk_plan_table(plans: Any) -> dict[str, Callable[..., Plan[Any]]]:
    """The table for a manager kind whose methods take Django's ``bulk`` signatures (reverse
    foreign key, generic relation), from the plans its a-methods run
    (``related_managers.FK_PLANS``/``GENERIC_PLANS``)."""
    return {
        "add": lambda cls, m, *objs, bulk=True: plans.add(cls, m, objs, bulk),
        "remove": lambda cls, m, *objs, bulk=True: plans.remove(cls, m, objs, bulk),
        "clear": lambda cls, m, *, bulk=True: plans.clear(cls, m, bulk),
        "set": lambda cls, m, objs, *, bulk=True, clear=False: plans.set(
            cls, m, objs, bulk, clear
        ),
        "create": lambda cls, m, **kw: plans.create(cls, m, kw),
        "get_or_create": lambda cls, m, **kw: plans.get_or_create(cls, m, kw),
        "update_or_create": lambda cls, m, **kw: plans.update_or_create(cls, m, kw),
    }


def manager_methods(
    cls: type, stock: dict[str, Any], plans: dict[str, Callable[..., Plan[Any]]]
) -> dict[str, Callable[..., Any]]:
    """Sync routes for a generated related-manager class (``related_managers.patch_class``)."""
    from .related_managers import _block

    def route(name: str) -> Callable[..., Any]:
        make = plans[name]
        original = stock[name]

        @functools.wraps(original)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            if _intercepting():
                return original(self, *args, **kwargs)
            plan = make(cls, self, *args, **kwargs)
            return run(
                f"{cls.__name__}.{name}",
                router.db_for_write(self.model, instance=self.instance),
                _block(cls, self),
                lambda: plan,
                lambda: original(self, *args, **kwargs),
            )

        return method

    return {name: route(name) for name in plans if name in stock}


# --- install ----------------------------------------------------------------------------------


def install() -> None:
    """Put the sync routes on QuerySet, RawQuerySet and Model (``patching.install(sync=True)``)."""
    for cls, routes in ((QuerySet, _QUERYSET_ROUTES), (Model, _MODEL_ROUTES)):
        for name, function in routes.items():
            original = cls.__dict__[name]
            _stock[cls, name] = original
            setattr(cls, name, _like(original, function, f"{cls.__name__}.{name}"))
    _stock[RawQuerySet, "_fetch_all"] = RawQuerySet.__dict__["_fetch_all"]
    RawQuerySet._fetch_all = _like(
        RawQuerySet.__dict__["_fetch_all"], raw_fetch_all, "RawQuerySet._fetch_all"
    )
    _stock[Model, "prefetch_related_objects"] = django_query.prefetch_related_objects
    for module in _PREFETCH_MODULES:
        module.prefetch_related_objects = prefetch_related_objects


def uninstall() -> None:
    for (cls, name), original in list(_stock.items()):
        if cls is Model and name == "prefetch_related_objects":
            for module in _PREFETCH_MODULES:
                module.prefetch_related_objects = original
        else:
            setattr(cls, name, original)
    _stock.clear()


def _like(original: Any, function: Callable[..., Any], qualname: str) -> Callable[..., Any]:
    """``function`` as Django's method: name, qualname, docstring, ``alters_data``..."""
    function.__name__ = qualname.rsplit(".", 1)[-1]
    function.__qualname__ = qualname
    function.__doc__ = original.__doc__
    for attr in ("alters_data", "queryset_only"):
        if hasattr(original, attr):
            setattr(function, attr, getattr(original, attr))
    return function
