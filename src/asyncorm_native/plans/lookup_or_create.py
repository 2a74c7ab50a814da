"""Plans for ``QuerySet.get_or_create()`` and ``update_or_create()``.

Mirrors Django 5.2: race-safe as Django's, the create runs in a savepoint
(``atomic()``) and an ``IntegrityError`` is followed by another ``get()``;
``update_or_create()`` locks the row with ``select_for_update()`` inside its
own ``atomic()`` block, on the plan's connection.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import IntegrityError, connections
from django.db.models import Field
from django.db.models.utils import resolve_callables

from ..steps import Plan
from . import queryset as queryset_plans
from .save import create, save
from .transaction import atomic


def get_or_create(queryset: Any, defaults: Any, kwargs: dict[str, Any]) -> Plan[tuple[Any, bool]]:
    """Mirrors ``QuerySet.get_or_create()``."""
    queryset._for_write = True
    try:
        return (yield from queryset_plans.get(queryset, (), kwargs)), False
    except queryset.model.DoesNotExist:
        params = queryset._extract_model_params(defaults, **kwargs)
        try:
            return (yield from atomic(queryset.db, _create(queryset, params))), True
        except IntegrityError:
            try:
                return (yield from queryset_plans.get(queryset, (), kwargs)), False
            except queryset.model.DoesNotExist:
                pass
            raise


def _create(queryset: Any, params: dict[str, Any]) -> Plan[Any]:
    params = dict(resolve_callables(params))
    return (yield from create(queryset, params))


def update_or_create(
    queryset: Any, defaults: Any, create_defaults: Any, kwargs: dict[str, Any]
) -> Plan[tuple[Any, bool]]:
    """Mirrors ``QuerySet.update_or_create()``."""
    update_defaults = defaults or {}
    if create_defaults is None:
        create_defaults = update_defaults
    queryset._for_write = True
    return (
        yield from atomic(
            queryset.db, _update_or_create(queryset, update_defaults, create_defaults, kwargs)
        )
    )


def _update_or_create(
    queryset: Any, update_defaults: Any, create_defaults: Any, kwargs: dict[str, Any]
) -> Plan[tuple[Any, bool]]:
    """The body of ``update_or_create()``'s ``atomic()`` block."""
    locked = in_transaction(queryset.select_for_update())
    obj, created = yield from get_or_create(locked, create_defaults, kwargs)
    if created:
        return obj, created
    for k, v in resolve_callables(update_defaults):
        setattr(obj, k, v)
    update_fields = set(update_defaults)
    concrete_field_names = queryset.model._meta._non_pk_concrete_field_names
    if concrete_field_names.issuperset(update_fields):
        pk_fields = queryset.model._meta.pk_fields
        for field in queryset.model._meta.local_concrete_fields:
            if not (field in pk_fields or field.__class__.pre_save is Field.pre_save):
                update_fields.add(field.name)
                if field.name != field.attname:
                    update_fields.add(field.attname)
        yield from save(obj, using=queryset.db, update_fields=update_fields)
    else:
        yield from save(obj, using=queryset.db)
    return obj, False


class _InTransaction:
    """Django's connection as a compiler sees it inside the plan's ``atomic()`` block.

    Django's compiler refuses ``select_for_update()`` when the connection it
    compiles on is in autocommit; the statement runs on the plan's connection,
    inside the block, so the check must see that transaction.
    """

    def __init__(self, wrapper: Any) -> None:
        self._wrapper = wrapper

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapper, name)

    def get_autocommit(self) -> bool:
        return False


@cache
def in_transaction_class(base: type) -> type:
    """``base`` (a Query class) whose compilers see the plan's transaction."""

    class InTransactionQuery(base):  # type: ignore[misc, valid-type]
        def get_compiler(
            self, using: Any = None, connection: Any = None, elide_empty: bool = True
        ) -> Any:
            if using is None:
                return super().get_compiler(using, connection, elide_empty)
            proxy = _InTransaction(connections[using])
            return proxy.ops.compiler(self.compiler)(self, proxy, using, elide_empty)

    InTransactionQuery.__qualname__ = base.__qualname__
    return InTransactionQuery


def in_transaction(queryset: Any) -> Any:
    """A copy of ``queryset`` that compiles as inside a transaction (its clones too)."""
    queryset = queryset._chain()
    queryset.query.__class__ = in_transaction_class(type(queryset.query))
    return queryset
