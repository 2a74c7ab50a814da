"""The native write a-methods of ``Model`` and ``QuerySet``, and their fallback rule.

Each method checks that the call can run natively (a supported database, no
override of the sync code its plan mirrors), then runs the plan on the async
driver. Otherwise it calls Django's stock method and counts why, as reads do.
Two rules keep a write from ever going wrong:

* a fallback is only taken *before* anything was written or sent: once a plan
  has changed data, an unsupported step raises ``NotSupportedError`` (inside
  an ``atomic()`` block, the block rolls back);
* inside ``asyncorm_native.atomic()`` there is no fallback at all: Django's
  stock method would write outside the block's transaction, so the call
  raises ``NotSupportedError`` naming the reason instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import SynchronousOnlyOperation
from django.db import NotSupportedError, router
from django.db.models import Model
from django.db.models.query import QuerySet

from . import pools, reporting, transactions
from .drivers import base, django_sync
from .plans import Unsupported, bulk, delete, lookup_or_create, refresh, save, validation
from .router import acquire
from .steps import Plan

_stock: dict[str, Any] = {}


def _override(cls: type, base_cls: type, names: tuple[str, ...]) -> str | None:
    for name in names:
        if getattr(cls, name, None) is not getattr(base_cls, name, None):
            return f"{cls.__qualname__} overrides {name}()"
    return None


# The checks below are not cached: tests replace model and queryset methods at run time
# (``mock.patch.object(Model, "save")``), and a stale answer would skip the replacement.


def _model_block(model: type, names: tuple[str, ...]) -> str | None:
    if model is Model:
        return None
    if "save" in names and save.mirrors_save_of(model):
        names = tuple(name for name in names if name != "save")
    return _override(model, Model, names)


#: What the save plans call on ``cls._base_manager``'s querysets (the model's and its parents').
BASE_QUERYSET_TWINS = ("_update", "_insert", "filter", "exists", "aggregate", "using")


def _base_queryset_block(model: type) -> str | None:
    """A base manager whose QuerySet overrides what ``save()`` runs through it."""
    for cls in (model, *model._meta.all_parents):
        queryset_cls = getattr(cls._base_manager, "_queryset_class", QuerySet)
        if queryset_cls is not QuerySet:
            kind = _override(queryset_cls, QuerySet, BASE_QUERYSET_TWINS)
            if kind:
                return kind
    return None


def _instance_block(obj: Any, names: tuple[str, ...]) -> str | None:
    """Overrides on the model class, or set on the instance itself (as mocks do)."""
    kind = _model_block(type(obj), names)
    if kind is None and names is save.MIRRORED:
        kind = _base_queryset_block(type(obj))
    if kind is None and obj.__dict__.keys() & names:
        name = sorted(obj.__dict__.keys() & names)[0]
        kind = f"{type(obj).__qualname__} instance has its own {name}()"
    return kind


def _queryset_block(qs: Any, names: tuple[str, ...]) -> str | None:
    cls = type(qs)
    return None if cls is QuerySet else _override(cls, QuerySet, names)


def _fallback_kind(exc: BaseException) -> str:
    if isinstance(exc, Unsupported):
        return exc.kind
    return f"a Django helper needed synchronous I/O ({exc})"


def _refuse_in_block(method: str, alias: str | None, kind: str) -> None:
    """Inside a native ``atomic()`` block, Django's stock method would write outside it."""
    if alias is None:
        return
    pinned = transactions.pinned_for(alias)
    if pinned is not None and pinned.open:
        raise NotSupportedError(
            f"asyncorm_native: {method}() cannot run natively ({kind}), and Django's stock "
            f"method would write outside this asyncorm_native.atomic(using={alias!r}) block. "
            f"Run it after the block, or use Django's transaction.atomic() in sync code."
        )


async def _stock_call(
    method: str, alias: str | None, kind: str, stock: Callable[[], Awaitable[Any]]
) -> Any:
    _refuse_in_block(method, alias, kind)
    reporting.fallback(method, kind)
    return await stock()


async def run_write(
    method: str,
    alias: str | None,
    block: str | None,
    plan: Callable[[], Plan[Any]],
    stock: Callable[[], Awaitable[Any]],
    *,
    sync: bool = False,
) -> Any:
    """Run ``plan`` natively for ``method`` on ``alias``; Django's ``stock`` when it cannot.

    ``sync=True`` (``sync_routes``: Django's sync methods) runs the plan on the sync
    driver, on Django's own connection; the coroutine then never suspends.
    """
    if block is None and alias is not None:
        try:
            pools.check_supported(alias)
        except Unsupported as exc:
            block = exc.kind
    if block is not None:
        return await _stock_call(method, alias, block, stock)
    if sync:
        session = django_sync.session()
        inline: Any = django_sync.inline(session)
    else:
        if alias is not None and not pools.prepared(alias):
            await pools.prepare(alias)
        session = base.AsyncSession(acquire)
        inline = nullcontext()
    try:
        with inline:
            result = await base.run(plan(), session.acquire, session)
    except (Unsupported, SynchronousOnlyOperation) as exc:
        kind = _fallback_kind(exc)
        if session.effects:
            reporting.native(method)
            raise NotSupportedError(
                f"asyncorm_native: {method}() could not continue natively after it had "
                f"started writing: {kind}."
            ) from exc
        return await _stock_call(method, alias, kind, stock)
    except BaseException:
        reporting.native(method)
        raise
    reporting.native(method)
    return result


def _write_db(qs: Any) -> str:
    """``qs.db`` as Django computes it once the queryset is marked for writing."""
    return qs._db or router.db_for_write(qs.model, **qs._hints)


# --- Model ------------------------------------------------------------------------------------


async def asave(
    self: Any,
    *args: Any,
    force_insert: Any = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Any = None,
) -> None:
    """Native ``Model.asave()``: see ``Model.save()``."""
    if args:
        force_insert, force_update, using, update_fields = self._parse_save_params(
            *args,
            method_name="asave",
            force_insert=force_insert,
            force_update=force_update,
            using=using,
            update_fields=update_fields,
        )
    return await run_write(
        "Model.asave",
        using or router.db_for_write(self.__class__, instance=self),
        _instance_block(self, save.MIRRORED),
        lambda: save.save(self, force_insert, force_update, using, update_fields),
        lambda: _stock["Model.asave"](
            self,
            force_insert=force_insert,
            force_update=force_update,
            using=using,
            update_fields=update_fields,
        ),
    )


async def adelete(self: Any, using: str | None = None, keep_parents: bool = False) -> Any:
    """Native ``Model.adelete()``: see ``Model.delete()``."""
    return await run_write(
        "Model.adelete",
        using or router.db_for_write(self.__class__, instance=self),
        _instance_block(self, ("delete",)),
        lambda: delete.delete_instance(self, using, keep_parents),
        lambda: _stock["Model.adelete"](self, using=using, keep_parents=keep_parents),
    )


async def arefresh_from_db(
    self: Any, using: str | None = None, fields: Any = None, from_queryset: Any = None
) -> None:
    """Native ``Model.arefresh_from_db()``: see ``Model.refresh_from_db()``."""
    return await run_write(
        "Model.arefresh_from_db",
        refresh.alias_for(self, using, from_queryset),
        _instance_block(self, ("refresh_from_db",)),
        lambda: refresh.refresh_from_db(self, using, fields, from_queryset),
        lambda: _stock["Model.arefresh_from_db"](
            self, using=using, fields=fields, from_queryset=from_queryset
        ),
    )


# --- QuerySet ---------------------------------------------------------------------------------


def _create_block(qs: Any, names: tuple[str, ...]) -> str | None:
    return (
        _queryset_block(qs, names)
        or _model_block(qs.model, save.MIRRORED)
        or _base_queryset_block(qs.model)
    )


async def acreate(self: Any, **kwargs: Any) -> Any:
    """Native ``QuerySet.acreate()``: see ``QuerySet.create()``."""
    return await run_write(
        "acreate",
        _write_db(self),
        _create_block(self, ("create",)),
        lambda: save.create(self, kwargs),
        lambda: _stock["acreate"](self, **kwargs),
    )


async def aupdate(self: Any, **kwargs: Any) -> int:
    """Native ``QuerySet.aupdate()``: see ``QuerySet.update()``."""
    return await run_write(
        "aupdate",
        _write_db(self),
        _queryset_block(self, ("update",)),
        lambda: delete.update(self, kwargs),
        lambda: _stock["aupdate"](self, **kwargs),
    )


async def qs_adelete(self: Any) -> Any:
    """Native ``QuerySet.adelete()``: see ``QuerySet.delete()``."""
    return await run_write(
        "adelete",
        _write_db(self),
        _queryset_block(self, ("delete", "_raw_delete")),
        lambda: delete.delete_queryset(self),
        lambda: _stock["adelete"](self),
    )


async def abulk_create(
    self: Any,
    objs: Any,
    batch_size: int | None = None,
    ignore_conflicts: bool = False,
    update_conflicts: bool = False,
    update_fields: Any = None,
    unique_fields: Any = None,
) -> Any:
    """Native ``QuerySet.abulk_create()``: see ``QuerySet.bulk_create()``."""
    return await run_write(
        "abulk_create",
        _write_db(self),
        _queryset_block(
            self, ("bulk_create", "_batched_insert", "_insert", "_prepare_for_bulk_create")
        ),
        lambda: bulk.bulk_create(
            self, objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
        ),
        lambda: _stock["abulk_create"](
            self,
            objs=objs,
            batch_size=batch_size,
            ignore_conflicts=ignore_conflicts,
            update_conflicts=update_conflicts,
            update_fields=update_fields,
            unique_fields=unique_fields,
        ),
    )


async def abulk_update(self: Any, objs: Any, fields: Any, batch_size: int | None = None) -> int:
    """Native ``QuerySet.abulk_update()``: see ``QuerySet.bulk_update()``."""
    return await run_write(
        "abulk_update",
        _write_db(self),
        _queryset_block(self, ("bulk_update", "update", "filter")),
        lambda: bulk.bulk_update(self, objs, fields, batch_size),
        lambda: _stock["abulk_update"](self, objs=objs, fields=fields, batch_size=batch_size),
    )


_GET_TWINS = ("get", "filter", "_fetch_all", "__iter__", "__len__", "_prepare_related_objects")


async def aget_or_create(self: Any, defaults: Any = None, **kwargs: Any) -> Any:
    """Native ``QuerySet.aget_or_create()``: see ``QuerySet.get_or_create()``."""
    return await run_write(
        "aget_or_create",
        _write_db(self),
        _create_block(self, ("get_or_create", "create", *_GET_TWINS)),
        lambda: lookup_or_create.get_or_create(self, defaults, kwargs),
        lambda: _stock["aget_or_create"](self, defaults=defaults, **kwargs),
    )


async def aupdate_or_create(
    self: Any, defaults: Any = None, create_defaults: Any = None, **kwargs: Any
) -> Any:
    """Native ``QuerySet.aupdate_or_create()``: see ``QuerySet.update_or_create()``."""
    return await run_write(
        "aupdate_or_create",
        _write_db(self),
        _create_block(
            self,
            ("update_or_create", "get_or_create", "select_for_update", "create", *_GET_TWINS),
        ),
        lambda: lookup_or_create.update_or_create(self, defaults, create_defaults, kwargs),
        lambda: _stock["aupdate_or_create"](
            self, defaults=defaults, create_defaults=create_defaults, **kwargs
        ),
    )


# --- Validation (async model methods Django does not have) -------------------------------------


async def aclean_fields(self: Any, exclude: Any = None) -> None:
    """``Model.clean_fields()`` with the field validators' queries run natively."""
    return await run_write(
        "Model.aclean_fields",
        validation.alias_of(self),
        _instance_block(self, ("clean_fields",)),
        lambda: validation.clean_fields(self, exclude),
        lambda: validation.stock(self.clean_fields, exclude=exclude),
    )


async def aclean(self: Any) -> None:
    """``Model.clean()``: an override runs through ``sync_to_async``, as stock code would."""
    await validation.clean(self)


async def avalidate_unique(self: Any, exclude: Any = None) -> None:
    """``Model.validate_unique()`` with its uniqueness queries run natively."""
    return await run_write(
        "Model.avalidate_unique",
        validation.alias_of(self),
        _instance_block(self, validation.UNIQUE_TWINS),
        lambda: validation.validate_unique(self, exclude),
        lambda: validation.stock(self.validate_unique, exclude=exclude),
    )


async def avalidate_constraints(self: Any, exclude: Any = None) -> None:
    """``Model.validate_constraints()`` with the constraints' queries run natively."""
    return await run_write(
        "Model.avalidate_constraints",
        validation.alias_of(self),
        _instance_block(self, ("validate_constraints",)),
        lambda: validation.validate_constraints(self, exclude),
        lambda: validation.stock(self.validate_constraints, exclude=exclude),
    )


async def afull_clean(
    self: Any, exclude: Any = None, validate_unique: bool = True, validate_constraints: bool = True
) -> None:
    """``Model.full_clean()``: each step native as above, in Django's order."""
    await validation.full_clean(self, exclude, validate_unique, validate_constraints)


MODEL_METHODS: dict[str, Callable[..., Any]] = {
    "asave": asave,
    "adelete": adelete,
    "arefresh_from_db": arefresh_from_db,
}
VALIDATION_METHODS: dict[str, Callable[..., Any]] = {
    "aclean_fields": aclean_fields,
    "aclean": aclean,
    "avalidate_unique": avalidate_unique,
    "avalidate_constraints": avalidate_constraints,
    "afull_clean": afull_clean,
}
QUERYSET_METHODS: dict[str, Callable[..., Any]] = {
    "acreate": acreate,
    "aupdate": aupdate,
    "adelete": qs_adelete,
    "abulk_create": abulk_create,
    "abulk_update": abulk_update,
    "aget_or_create": aget_or_create,
    "aupdate_or_create": aupdate_or_create,
}


def install() -> None:
    """Put the native write methods on ``Model`` and ``QuerySet`` (called by ``install()``)."""
    for name, method in MODEL_METHODS.items():
        stock = Model.__dict__[name]
        _stock[f"Model.{name}"] = stock
        _copy_attributes(stock, method, f"Model.{name}")
        setattr(Model, name, method)
    for name, method in VALIDATION_METHODS.items():
        method.__qualname__ = f"Model.{name}"
        setattr(Model, name, method)
    for name, method in QUERYSET_METHODS.items():
        stock = QuerySet.__dict__[name]
        _stock[name] = stock
        _copy_attributes(stock, method, f"QuerySet.{name}")
        setattr(QuerySet, name, method)


def uninstall() -> None:
    for name in MODEL_METHODS:
        setattr(Model, name, _stock.pop(f"Model.{name}"))
    for name in VALIDATION_METHODS:
        delattr(Model, name)
    for name in QUERYSET_METHODS:
        setattr(QuerySet, name, _stock.pop(name))


def _copy_attributes(stock: Any, method: Any, qualname: str) -> None:
    method.__qualname__ = qualname
    for attr in ("alters_data", "queryset_only"):
        if hasattr(stock, attr):
            setattr(method, attr, getattr(stock, attr))
