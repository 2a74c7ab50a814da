"""Plans for ``Model.save()`` and ``QuerySet.create()``.

Mirrors ``Model.save()``, ``save_base()``, ``_save_parents()``,
``_save_table()``, ``_do_update()`` and ``_do_insert()`` of Django 5.2, with
each query replaced by a step: the UPDATE is Django's ``QuerySet._update()``
and the INSERT Django's ``QuerySet._insert()``, captured at the compiler
(:func:`.dml.run_statement`); field values come from Django's
``pre_save()``/``get_pk_value_on_save()``; ``pre_save``/``post_save`` are sent
where Django sends them, and the ``atomic(savepoint=False)`` Django opens for
inherited models is opened on the plan's connection.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import DatabaseError, router
from django.db.models import ExpressionWrapper, IntegerField, Max, Model, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_save, pre_save

from ..steps import Plan
from . import queryset as queryset_plans
from .dml import run_statement
from .transaction import atomic, mark_for_rollback_on_error, send

#: The Model methods these plans mirror: a model overriding one saves with Django's code.
MIRRORED = ("save", "save_base", "_save_parents", "_save_table", "_do_update", "_do_insert")


def _after_user_save(obj: Any) -> None:
    """The tail of ``AbstractBaseUser.save()``, after its ``super().save()``."""
    from django.contrib.auth import password_validation

    if obj._password is not None:
        password_validation.password_changed(obj._password, obj)
        obj._password = None


def _known_saves() -> dict[Any, Any]:
    """Django's own ``save()`` overrides the plans mirror: the override -> its tail."""
    if not apps.is_installed("django.contrib.auth"):
        return {}
    from django.contrib.auth.base_user import AbstractBaseUser

    return {AbstractBaseUser.save: _after_user_save}


def mirrors_save_of(model: type) -> bool:
    """Whether ``model.save`` is one of Django's overrides mirrored here.

    ``AbstractBaseUser.save()`` tells the password validators that the password
    changed; it is mirrored while every validator is Django's own (theirs do no I/O).
    """
    tail = _known_saves().get(model.save)
    if tail is None:
        return False
    from django.contrib.auth import password_validation

    return all(
        type(validator).__module__ == password_validation.__name__
        for validator in password_validation.get_default_password_validators()
    )


def save(
    obj: Any,
    force_insert: Any = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Any = None,
) -> Plan[None]:
    """Mirrors ``obj.save()``: ``Model.save()``, with the tail of a known override
    (``mirrors_save_of()``; any other override makes the callers fall back)."""
    yield from model_save(obj, force_insert, force_update, using, update_fields)
    tail = _known_saves().get(type(obj).save) if type(obj).save is not Model.save else None
    if tail is not None:
        tail(obj)
    return None


def model_save(
    obj: Any,
    force_insert: Any = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Any = None,
) -> Plan[None]:
    """Mirrors ``Model.save()``."""
    obj._prepare_related_fields_for_save(operation_name="save")

    using = using or router.db_for_write(obj.__class__, instance=obj)
    if force_insert and (force_update or update_fields):
        raise ValueError("Cannot force both insert and updating in model saving.")

    deferred_non_generated_fields = {
        f.attname
        for f in obj._meta.concrete_fields
        if f.attname not in obj.__dict__ and f.generated is False
    }
    if update_fields is not None:
        if not update_fields:
            return None
        update_fields = frozenset(update_fields)
        field_names = obj._meta._non_pk_concrete_field_names
        not_updatable_fields = update_fields.difference(field_names)
        if not_updatable_fields:
            raise ValueError(
                "The following fields do not exist in this model, are m2m "
                "fields, primary keys, or are non-concrete fields: "
                + ", ".join(not_updatable_fields)
            )
    elif not force_insert and deferred_non_generated_fields and using == obj._state.db:
        field_names = set()
        pk_fields = obj._meta.pk_fields
        for field in obj._meta.concrete_fields:
            if field not in pk_fields and not hasattr(field, "through"):
                field_names.add(field.attname)
        loaded_fields = field_names.difference(deferred_non_generated_fields)
        if loaded_fields:
            update_fields = frozenset(loaded_fields)

    yield from save_base(
        obj,
        using=using,
        force_insert=force_insert,
        force_update=force_update,
        update_fields=update_fields,
    )
    return None


def save_base(
    obj: Any,
    raw: bool = False,
    force_insert: Any = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Any = None,
) -> Plan[None]:
    """Mirrors ``Model.save_base()``."""
    using = using or router.db_for_write(obj.__class__, instance=obj)
    assert not (force_insert and (force_update or update_fields))
    assert update_fields is None or update_fields
    cls = origin = obj.__class__
    if cls._meta.proxy:
        cls = cls._meta.concrete_model
    meta = cls._meta
    if not meta.auto_created:
        yield from send(
            pre_save,
            origin,
            instance=obj,
            raw=raw,
            using=using,
            update_fields=update_fields,
        )
    body = _save_tables(obj, raw, cls, force_insert, force_update, using, update_fields)
    if meta.parents:
        updated = yield from atomic(using, body, savepoint=False)
    else:
        updated = yield from mark_for_rollback_on_error(using, body)
    obj._state.db = using
    obj._state.adding = False

    if not meta.auto_created:
        yield from send(
            post_save,
            origin,
            instance=obj,
            created=(not updated),
            update_fields=update_fields,
            raw=raw,
            using=using,
        )
    return None


def _save_tables(
    obj: Any,
    raw: bool,
    cls: Any,
    force_insert: Any,
    force_update: bool,
    using: str,
    update_fields: Any,
) -> Plan[bool]:
    """The body of ``save_base()``'s ``with context_manager:``."""
    parent_inserted = False
    if not raw:
        force_insert = obj._validate_force_insert(force_insert)
        parent_inserted = yield from _save_parents(obj, cls, using, update_fields, force_insert)
    return (
        yield from _save_table(
            obj, raw, cls, force_insert or parent_inserted, force_update, using, update_fields
        )
    )


def _save_parents(
    obj: Any,
    cls: Any,
    using: str,
    update_fields: Any,
    force_insert: Any,
    updated_parents: dict[Any, bool] | None = None,
) -> Plan[bool]:
    """Mirrors ``Model._save_parents()``."""
    meta = cls._meta
    inserted = False
    if updated_parents is None:
        updated_parents = {}
    for parent, field in meta.parents.items():
        if (
            field
            and getattr(obj, parent._meta.pk.attname) is None
            and getattr(obj, field.attname) is not None
        ):
            setattr(obj, parent._meta.pk.attname, getattr(obj, field.attname))
        if (parent_updated := updated_parents.get(parent)) is None:
            parent_inserted = yield from _save_parents(
                obj,
                cls=parent,
                using=using,
                update_fields=update_fields,
                force_insert=force_insert,
                updated_parents=updated_parents,
            )
            updated = yield from _save_table(
                obj,
                cls=parent,
                using=using,
                update_fields=update_fields,
                force_insert=parent_inserted or issubclass(parent, force_insert),
            )
            if not updated:
                inserted = True
            updated_parents[parent] = updated
        elif not parent_updated:
            inserted = True
        if field:
            setattr(obj, field.attname, obj._get_pk_val(parent._meta))
            if field.is_cached(obj):
                field.delete_cached_value(obj)
    return inserted


def _save_table(
    obj: Any,
    raw: bool = False,
    cls: Any = None,
    force_insert: Any = False,
    force_update: bool = False,
    using: Any = None,
    update_fields: Any = None,
) -> Plan[bool]:
    """Mirrors ``Model._save_table()``."""
    meta = cls._meta
    pk_fields = meta.pk_fields
    non_pks_non_generated = [
        f for f in meta.local_concrete_fields if f not in pk_fields and not f.generated
    ]

    if update_fields:
        non_pks_non_generated = [
            f
            for f in non_pks_non_generated
            if f.name in update_fields or f.attname in update_fields
        ]

    if not obj._is_pk_set(meta):
        pk_val = meta.pk.get_pk_value_on_save(obj)
        setattr(obj, meta.pk.attname, pk_val)
    pk_set = obj._is_pk_set(meta)
    if not pk_set and (force_update or update_fields):
        raise ValueError("Cannot force an update in save() with no primary key.")
    updated = False
    if (
        not raw
        and not force_insert
        and not force_update
        and obj._state.adding
        and all(f.has_default() or f.has_db_default() for f in meta.pk_fields)
    ):
        force_insert = True
    if pk_set and not force_insert:
        base_qs = cls._base_manager.using(using)
        values = [
            (
                f,
                None,
                (getattr(obj, f.attname) if raw else f.pre_save(obj, False)),
            )
            for f in non_pks_non_generated
        ]
        forced_update = update_fields or force_update
        pk_val = obj._get_pk_val(meta)
        updated = yield from _do_update(
            obj, base_qs, using, pk_val, values, update_fields, forced_update
        )
        if force_update and not updated:
            raise DatabaseError("Forced update did not affect any rows.")
        if update_fields and not updated:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    if not updated:
        if meta.order_with_respect_to:
            field = meta.order_with_respect_to
            filter_args = field.get_filter_kwargs_for_object(obj)
            aggregated = yield from queryset_plans.aggregate(
                cls._base_manager.using(using).filter(**filter_args),
                (),
                {
                    "_order__max": Coalesce(
                        ExpressionWrapper(Max("_order") + Value(1), output_field=IntegerField()),
                        Value(0),
                    )
                },
            )
            obj._order = aggregated["_order__max"]
        fields = [
            f
            for f in meta.local_concrete_fields
            if not f.generated and (pk_set or f is not meta.auto_field)
        ]
        returning_fields = meta.db_returning_fields
        results = yield from _do_insert(
            obj, cls._base_manager, using, fields, returning_fields, raw
        )
        if results:
            for value, field in zip(results[0], returning_fields, strict=False):
                setattr(obj, field.attname, value)
    return updated


def _do_update(
    obj: Any,
    base_qs: Any,
    using: str,
    pk_val: Any,
    values: list[Any],
    update_fields: Any,
    forced_update: Any,
) -> Plan[bool]:
    """Mirrors ``Model._do_update()``."""
    filtered = base_qs.filter(pk=pk_val)
    if not values:
        if update_fields is not None:
            return True
        return (yield from queryset_plans.exists(filtered))
    if obj._meta.select_on_save and not forced_update:
        if not (yield from queryset_plans.exists(filtered)):
            return False
        if (yield from run_statement(filtered._update, values)) > 0:
            return True
        return (yield from queryset_plans.exists(filtered))
    return (yield from run_statement(filtered._update, values)) > 0


def _do_insert(
    obj: Any, manager: Any, using: str, fields: list[Any], returning_fields: Any, raw: bool
) -> Plan[Any]:
    """Mirrors ``Model._do_insert()``."""
    return (
        yield from run_statement(
            manager._insert,
            [obj],
            fields=fields,
            returning_fields=returning_fields,
            using=using,
            raw=raw,
        )
    )


def create(queryset: Any, kwargs: dict[str, Any]) -> Plan[Any]:
    """Mirrors ``QuerySet.create()``."""
    reverse_one_to_one_fields = frozenset(kwargs).intersection(
        queryset.model._meta._reverse_one_to_one_field_names
    )
    if reverse_one_to_one_fields:
        raise ValueError(
            "The following fields do not exist in this model: "
            + ", ".join(reverse_one_to_one_fields)
        )
    obj = queryset.model(**kwargs)
    queryset._for_write = True
    yield from save(obj, force_insert=True, using=queryset.db)
    return obj
