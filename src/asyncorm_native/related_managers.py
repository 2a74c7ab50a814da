"""Native write a-methods on Django's related managers.

Django builds a manager class per relation (``create_reverse_many_to_one_manager()``,
``create_forward_many_to_many_manager()``, ``create_generic_related_manager()``)
and caches it on the descriptor. ``install()`` wraps the three factories so
that new classes get the native methods, and patches the classes already
built; ``uninstall()`` restores every class it patched. The methods run the
plans of ``plans/related.py`` under the write fallback rule (``writes.run_write``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from django.apps import apps
from django.db import router
from django.db.models import Manager
from django.db.models.fields import related_descriptors
from django.db.models.query import QuerySet

from . import writes
from .plans import related, save

_stock_factories: dict[tuple[Any, str], Any] = {}
_patched: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()
#: With ``install(sync=True)``: each builder's sync plans (``sync_routes.manager_methods``).
_sync_plans: dict[Any, dict[str, Callable[..., Any]]] = {}

#: Manager and QuerySet methods the related plans stand in for.
_MANAGER_TWINS = ("create", "get_or_create", "update_or_create", "using", "bulk_create")
_QUERYSET_TWINS = (
    "create",
    "get_or_create",
    "update_or_create",
    "update",
    "delete",
    "bulk_create",
    "_insert",
    "_batched_insert",
    "get",
    "_fetch_all",
)


def _manager_override(manager_cls: type) -> str | None:
    for klass in manager_cls.__mro__:
        if klass in (Manager, object) or klass.__module__.startswith("django.db.models"):
            continue
        for name in _MANAGER_TWINS:
            member = klass.__dict__.get(name)
            if member is not None and not hasattr(member, "__wrapped__"):
                return f"{klass.__qualname__} overrides {name}()"
    return None


def _queryset_override(manager_cls: type) -> str | None:
    queryset_cls = getattr(manager_cls, "_queryset_class", QuerySet)
    if queryset_cls is QuerySet:
        return None
    return writes._override(queryset_cls, QuerySet, _QUERYSET_TWINS)


def _block(cls: type, manager: Any) -> str | None:
    """Why this relation's writes cannot run natively, or None (not cached: see ``writes``)."""
    superclass = cls.__mro__[1]
    kind = (
        writes._model_block(manager.model, save.MIRRORED)
        or writes._base_queryset_block(manager.model)
        or writes._model_block(manager.model, ("delete",))
        or _manager_override(superclass)
        or _queryset_override(superclass)
    )
    through = getattr(manager, "through", None)
    if kind is None and through is not None:
        kind = _queryset_override(type(through._default_manager))
    return kind


async def _run(
    cls: type, manager: Any, method: str, plan: Callable[[], Any], stock: Callable[[], Any]
) -> Any:
    return await writes.run_write(
        f"{cls.__name__}.{method}",
        router.db_for_write(manager.model, instance=manager.instance),
        _block(cls, manager),
        plan,
        stock,
    )


Builder = Callable[[type, dict[str, Any]], dict[str, Callable[..., Any]]]


class _BulkPlans(NamedTuple):
    """The plans behind a reverse foreign key's or a generic relation's a-methods."""

    add: Callable[..., Any]
    remove: Callable[..., Any]
    clear: Callable[..., Any]
    set: Callable[..., Any]
    create: Callable[..., Any]
    get_or_create: Callable[..., Any]
    update_or_create: Callable[..., Any]


def _bulk_methods(plans: _BulkPlans) -> Builder:
    """A builder of native methods for a manager class whose a-methods take Django's ``bulk``
    signatures: ``create_reverse_many_to_one_manager()``, ``create_generic_related_manager()``.
    """

    def build(cls: type, stock: dict[str, Any]) -> dict[str, Callable[..., Any]]:
        async def aadd(self: Any, *objs: Any, bulk: bool = True) -> None:
            return await _run(
                cls,
                self,
                "aadd",
                lambda: plans.add(cls, self, objs, bulk),
                lambda: stock["aadd"](self, *objs, bulk=bulk),
            )

        async def acreate(self: Any, **kwargs: Any) -> Any:
            return await _run(
                cls,
                self,
                "acreate",
                lambda: plans.create(cls, self, kwargs),
                lambda: stock["acreate"](self, **kwargs),
            )

        async def aget_or_create(self: Any, **kwargs: Any) -> Any:
            return await _run(
                cls,
                self,
                "aget_or_create",
                lambda: plans.get_or_create(cls, self, kwargs),
                lambda: stock["aget_or_create"](self, **kwargs),
            )

        async def aupdate_or_create(self: Any, **kwargs: Any) -> Any:
            return await _run(
                cls,
                self,
                "aupdate_or_create",
                lambda: plans.update_or_create(cls, self, kwargs),
                lambda: stock["aupdate_or_create"](self, **kwargs),
            )

        async def aremove(self: Any, *objs: Any, bulk: bool = True) -> None:
            return await _run(
                cls,
                self,
                "aremove",
                lambda: plans.remove(cls, self, objs, bulk),
                lambda: stock["aremove"](self, *objs, bulk=bulk),
            )

        async def aclear(self: Any, *, bulk: bool = True) -> None:
            return await _run(
                cls,
                self,
                "aclear",
                lambda: plans.clear(cls, self, bulk),
                lambda: stock["aclear"](self, bulk=bulk),
            )

        async def aset(self: Any, objs: Any, *, bulk: bool = True, clear: bool = False) -> None:
            return await _run(
                cls,
                self,
                "aset",
                lambda: plans.set(cls, self, objs, bulk, clear),
                lambda: stock["aset"](self, objs, bulk=bulk, clear=clear),
            )

        return {
            "aadd": aadd,
            "acreate": acreate,
            "aget_or_create": aget_or_create,
            "aupdate_or_create": aupdate_or_create,
            "aremove": aremove,
            "aclear": aclear,
            "aset": aset,
        }

    return build


FK_PLANS = _BulkPlans(
    related.fk_add,
    related.fk_remove,
    related.fk_clear,
    related.fk_set,
    related.fk_create,
    related.fk_get_or_create,
    related.fk_update_or_create,
)
GENERIC_PLANS = _BulkPlans(
    related.generic_add,
    related.generic_remove,
    related.generic_clear,
    related.generic_set,
    related.generic_create,
    lambda cls, manager, kwargs: related.generic_get_or_create(cls, manager, kwargs, False),
    lambda cls, manager, kwargs: related.generic_get_or_create(cls, manager, kwargs, True),
)
_fk_methods = _bulk_methods(FK_PLANS)
_generic_methods = _bulk_methods(GENERIC_PLANS)


def _m2m_methods(cls: type, stock: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """Native methods for a ``create_forward_many_to_many_manager()`` class."""

    async def aadd(self: Any, *objs: Any, through_defaults: Any = None) -> None:
        return await _run(
            cls,
            self,
            "aadd",
            lambda: related.m2m_add(cls, self, objs, through_defaults),
            lambda: stock["aadd"](self, *objs, through_defaults=through_defaults),
        )

    async def aremove(self: Any, *objs: Any) -> None:
        return await _run(
            cls,
            self,
            "aremove",
            lambda: related.m2m_remove(cls, self, objs),
            lambda: stock["aremove"](self, *objs),
        )

    async def aclear(self: Any) -> None:
        return await _run(
            cls,
            self,
            "aclear",
            lambda: related.m2m_clear(cls, self),
            lambda: stock["aclear"](self),
        )

    async def aset(
        self: Any, objs: Any, *, clear: bool = False, through_defaults: Any = None
    ) -> None:
        return await _run(
            cls,
            self,
            "aset",
            lambda: related.m2m_set(cls, self, objs, clear, through_defaults),
            lambda: stock["aset"](self, objs, clear=clear, through_defaults=through_defaults),
        )

    async def acreate(self: Any, *, through_defaults: Any = None, **kwargs: Any) -> Any:
        return await _run(
            cls,
            self,
            "acreate",
            lambda: related.m2m_create(cls, self, through_defaults, kwargs),
            lambda: stock["acreate"](self, through_defaults=through_defaults, **kwargs),
        )

    async def aget_or_create(self: Any, *, through_defaults: Any = None, **kwargs: Any) -> Any:
        return await _run(
            cls,
            self,
            "aget_or_create",
            lambda: related.m2m_get_or_create(cls, self, through_defaults, kwargs, False),
            lambda: stock["aget_or_create"](self, through_defaults=through_defaults, **kwargs),
        )

    async def aupdate_or_create(self: Any, *, through_defaults: Any = None, **kwargs: Any) -> Any:
        return await _run(
            cls,
            self,
            "aupdate_or_create",
            lambda: related.m2m_get_or_create(cls, self, through_defaults, kwargs, True),
            lambda: stock["aupdate_or_create"](self, through_defaults=through_defaults, **kwargs),
        )

    return {
        "aadd": aadd,
        "aremove": aremove,
        "aclear": aclear,
        "aset": aset,
        "acreate": acreate,
        "aget_or_create": aget_or_create,
        "aupdate_or_create": aupdate_or_create,
    }


def _factories() -> list[tuple[Any, str, Builder, Any]]:
    """(module, factory name, builder, descriptor class) for each kind of related manager."""
    factories: list[tuple[Any, str, Builder, Any]] = [
        (
            related_descriptors,
            "create_forward_many_to_many_manager",
            _m2m_methods,
            related_descriptors.ManyToManyDescriptor,
        ),
    ]
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes import fields as generic_fields

        factories.append(
            (
                generic_fields,
                "create_generic_related_manager",
                _generic_methods,
                generic_fields.ReverseGenericManyToOneDescriptor,
            )
        )
    factories.append(
        (
            related_descriptors,
            "create_reverse_many_to_one_manager",
            _fk_methods,
            related_descriptors.ReverseManyToOneDescriptor,
        )
    )
    return factories  # most specific descriptor class first


def patch_class(cls: type, builder: Builder) -> type:
    """Give a generated manager class the native methods (idempotent)."""
    if cls in _patched:
        return cls
    stock = {name: cls.__dict__[name] for name in _NAMES if name in cls.__dict__}
    methods = builder(cls, stock)
    for name, function in methods.items():
        if name not in stock:  # remove()/clear() exist only on nullable foreign keys
            continue
        function.__qualname__ = f"{cls.__qualname__}.{name}"
        function.alters_data = True  # type: ignore[attr-defined]
        setattr(cls, name, function)
    plans = _sync_plans.get(builder)
    if plans is not None:  # install(sync=True): the sync methods run the same plans
        from .sync_routes import manager_methods

        sync_stock = {name: cls.__dict__[name] for name in plans if name in cls.__dict__}
        for name, function in manager_methods(cls, sync_stock, plans).items():
            function.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, function)
        stock.update(sync_stock)
    _patched[cls] = stock
    return cls


_NAMES = ("aadd", "aremove", "aclear", "aset", "acreate", "aget_or_create", "aupdate_or_create")


def _wrap(factory: Any, builder: Builder) -> Any:
    def create_manager(*args: Any, **kwargs: Any) -> type:
        return patch_class(factory(*args, **kwargs), builder)

    create_manager.__wrapped__ = factory  # type: ignore[attr-defined]
    return create_manager


def _existing_classes(factories: list[tuple[Any, str, Builder, Any]]) -> list[tuple[type, Builder]]:
    """Manager classes the descriptors built before ``install()``."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for attr in vars(model).values():
            cls = getattr(attr, "__dict__", {}).get("related_manager_cls")
            if cls is None:
                continue
            for _module, _name, builder, descriptor_class in factories:
                if isinstance(attr, descriptor_class):
                    found.append((cls, builder))
                    break
    return found


def install(sync: bool = False) -> None:
    """Native a-methods on the related managers; with ``sync``, their sync twins too."""
    if sync:
        from .sync_routes import M2M_PLANS, bulk_plan_table

        _sync_plans.update(
            {
                _fk_methods: bulk_plan_table(FK_PLANS),
                _m2m_methods: M2M_PLANS,
                _generic_methods: bulk_plan_table(GENERIC_PLANS),
            }
        )
    factories = _factories()
    for module, name, builder, _descriptor in factories:
        factory = getattr(module, name)
        _stock_factories[module, name] = factory
        setattr(module, name, _wrap(factory, builder))
    for cls, builder in _existing_classes(factories):
        patch_class(cls, builder)


def uninstall() -> None:
    for (module, name), factory in _stock_factories.items():
        setattr(module, name, factory)
    _stock_factories.clear()
    for cls, stock in list(_patched.items()):
        for name, function in stock.items():
            setattr(cls, name, function)
    _patched.clear()
    _sync_plans.clear()
