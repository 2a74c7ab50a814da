"""Plans for the related managers' writes: reverse foreign keys, many-to-many, generic relations.

Mirrors the write methods of the managers Django 5.2 builds in
``create_reverse_many_to_one_manager()``, ``create_forward_many_to_many_manager()``
and ``contenttypes.fields.create_generic_related_manager()``. Each plan takes
``cls``, the generated manager class (Django's code calls ``super(cls, ...)``),
and ``manager``, the bound manager. Checks and filters are the managers' own
helpers (``_check_fk_val()``, ``_get_target_ids()``, ``_get_add_plan()``,
``_build_remove_filters()``...); the statements are the queryset plans
(``update()``, ``delete()``, ``bulk_create()``, ``create()``...), and
``m2m_changed`` is sent where Django sends it.
"""

from __future__ import annotations

from typing import Any

from django.db import router
from django.db.models import QuerySet, signals
from django.db.models.utils import resolve_callables

from ..steps import Plan
from .bulk import bulk_create
from .delete import delete_instance, delete_queryset, update
from .intercept import replay
from .lookup_or_create import get_or_create, update_or_create
from .rows import evaluate
from .save import create, save
from .transaction import atomic, send


def materialize(objs: Any) -> Plan[tuple[Any, ...]]:
    """``tuple(objs)``, a queryset evaluated natively."""
    if isinstance(objs, QuerySet):
        return tuple((yield from evaluate(objs)))
    return tuple(objs)


def _all(queryset: Any) -> Plan[list[Any]]:
    """``list(queryset)`` (a manager's ``all()`` when given a manager)."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset.all()
    return list((yield from evaluate(queryset)))


def _split_defaults(
    kwargs: dict[str, Any], update: bool = False
) -> tuple[Any, Any, dict[str, Any]]:
    """The keyword arguments of ``get_or_create()`` (or ``update_or_create()``) split."""
    kwargs = dict(kwargs)
    defaults = kwargs.pop("defaults", None)
    create_defaults = kwargs.pop("create_defaults", None) if update else None
    return defaults, create_defaults, kwargs


# --- reverse foreign key (create_reverse_many_to_one_manager) ---------------------------------


def fk_add(cls: Any, manager: Any, objs: tuple[Any, ...], bulk: bool) -> Plan[None]:
    """Mirrors ``RelatedManager.add()``."""
    manager._check_fk_val()
    manager._remove_prefetched_objects()
    db = router.db_for_write(manager.model, instance=manager.instance)

    def check_and_update_obj(obj: Any) -> None:
        if not isinstance(obj, manager.model):
            raise TypeError(f"'{manager.model._meta.object_name}' instance expected, got {obj!r}")
        setattr(obj, manager.field.name, manager.instance)

    if bulk:
        pks = []
        for obj in objs:
            check_and_update_obj(obj)
            if obj._state.adding or obj._state.db != db:
                raise ValueError(
                    f"{obj!r} instance isn't saved. Use bulk=False or save the object first."
                )
            pks.append(obj.pk)
        yield from update(
            manager.model._base_manager.using(db).filter(pk__in=pks),
            {manager.field.name: manager.instance},
        )
    else:
        yield from atomic(db, _save_each(objs, check_and_update_obj), savepoint=False)


def _save_each(objs: tuple[Any, ...], prepare: Any) -> Plan[None]:
    for obj in objs:
        prepare(obj)
        yield from save(obj)


def fk_create(cls: Any, manager: Any, kwargs: dict[str, Any]) -> Plan[Any]:
    """Mirrors ``RelatedManager.create()``."""
    manager._check_fk_val()
    manager._remove_prefetched_objects()
    kwargs = {**kwargs, manager.field.name: manager.instance}
    db = router.db_for_write(manager.model, instance=manager.instance)
    return (yield from create(manager.db_manager(db).get_queryset(), kwargs))


def fk_get_or_create(cls: Any, manager: Any, kwargs: dict[str, Any]) -> Plan[tuple[Any, bool]]:
    """Mirrors ``RelatedManager.get_or_create()``."""
    manager._check_fk_val()
    defaults, _, lookup = _split_defaults({**kwargs, manager.field.name: manager.instance})
    db = router.db_for_write(manager.model, instance=manager.instance)
    queryset = manager.db_manager(db).get_queryset()
    return (yield from get_or_create(queryset, defaults, lookup))


def fk_update_or_create(cls: Any, manager: Any, kwargs: dict[str, Any]) -> Plan[tuple[Any, bool]]:
    """Mirrors ``RelatedManager.update_or_create()``."""
    manager._check_fk_val()
    defaults, create_defaults, lookup = _split_defaults(
        {**kwargs, manager.field.name: manager.instance}, update=True
    )
    db = router.db_for_write(manager.model, instance=manager.instance)
    queryset = manager.db_manager(db).get_queryset()
    return (yield from update_or_create(queryset, defaults, create_defaults, lookup))


def fk_remove(cls: Any, manager: Any, objs: tuple[Any, ...], bulk: bool) -> Plan[None]:
    """Mirrors ``RelatedManager.remove()`` (nullable foreign keys)."""
    if not objs:
        return None
    manager._check_fk_val()
    val = manager.field.get_foreign_related_value(manager.instance)
    old_ids = set()
    for obj in objs:
        if not isinstance(obj, manager.model):
            raise TypeError(f"'{manager.model._meta.object_name}' instance expected, got {obj!r}")
        if manager.field.get_local_related_value(obj) == val:
            old_ids.add(obj.pk)
        else:
            raise manager.field.remote_field.model.DoesNotExist(
                f"{obj!r} is not related to {manager.instance!r}."
            )
    yield from fk_clear_queryset(cls, manager, manager.filter(pk__in=old_ids), bulk)
    return None


def fk_clear(cls: Any, manager: Any, bulk: bool) -> Plan[None]:
    """Mirrors ``RelatedManager.clear()``."""
    manager._check_fk_val()
    yield from fk_clear_queryset(cls, manager, manager, bulk)


def fk_clear_queryset(cls: Any, manager: Any, queryset: Any, bulk: bool) -> Plan[None]:
    """Mirrors ``RelatedManager._clear()``."""
    manager._remove_prefetched_objects()
    db = router.db_for_write(manager.model, instance=manager.instance)
    queryset = queryset.using(db)
    if bulk:
        yield from update(queryset, {manager.field.name: None})
    else:
        yield from atomic(db, _unlink_each(manager, queryset), savepoint=False)


def _unlink_each(manager: Any, queryset: Any) -> Plan[None]:
    for obj in (yield from _all(queryset)):
        setattr(obj, manager.field.name, None)
        yield from save(obj, update_fields=[manager.field.name])


def fk_set(cls: Any, manager: Any, objs: Any, bulk: bool, clear: bool) -> Plan[None]:
    """Mirrors ``RelatedManager.set()``."""
    manager._check_fk_val()
    objs = yield from materialize(objs)
    if manager.field.null:
        db = router.db_for_write(manager.model, instance=manager.instance)
        yield from atomic(db, _fk_set(cls, manager, objs, bulk, clear, db), savepoint=False)
    else:
        yield from fk_add(cls, manager, objs, bulk)


def _fk_set(
    cls: Any, manager: Any, objs: tuple[Any, ...], bulk: bool, clear: bool, db: str
) -> Plan[None]:
    if clear:
        yield from fk_clear(cls, manager, bulk)
        yield from fk_add(cls, manager, objs, bulk)
        return
    old_objs, new_objs = yield from _set_difference(manager, objs, db)
    yield from fk_remove(cls, manager, old_objs, bulk)
    yield from fk_add(cls, manager, new_objs, bulk)


def _set_difference(
    manager: Any, objs: tuple[Any, ...], db: str
) -> Plan[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """``set()``'s split of a reverse foreign key or generic relation: the related objects
    not in ``objs`` (to remove), and the objects of ``objs`` not related yet (to add)."""
    old_objs = set((yield from _all(manager.using(db).all())))
    new_objs = []
    for obj in objs:
        if obj in old_objs:
            old_objs.remove(obj)
        else:
            new_objs.append(obj)
    return tuple(old_objs), tuple(new_objs)


# --- many-to-many (create_forward_many_to_many_manager) ---------------------------------------


def _m2m_changed(manager: Any, action: str, pk_set: Any, db: str) -> Plan[None]:
    yield from send(
        signals.m2m_changed,
        manager.through,
        action=action,
        instance=manager.instance,
        reverse=manager.reverse,
        model=manager.model,
        pk_set=pk_set,
        using=db,
    )


def m2m_add(cls: Any, manager: Any, objs: tuple[Any, ...], through_defaults: Any) -> Plan[None]:
    """Mirrors ``ManyRelatedManager.add()``."""
    manager._remove_prefetched_objects()
    db = router.db_for_write(manager.through, instance=manager.instance)
    yield from atomic(db, _m2m_add(manager, objs, through_defaults), savepoint=False)


def _m2m_add(manager: Any, objs: tuple[Any, ...], through_defaults: Any) -> Plan[None]:
    yield from _add_items(
        manager, manager.source_field_name, manager.target_field_name, objs, through_defaults
    )
    if manager.symmetrical:
        yield from _add_items(
            manager, manager.target_field_name, manager.source_field_name, objs, through_defaults
        )


def _add_items(
    manager: Any,
    source_field_name: str,
    target_field_name: str,
    objs: tuple[Any, ...],
    through_defaults: Any,
) -> Plan[None]:
    """Mirrors ``ManyRelatedManager._add_items()``."""
    if not objs:
        return None
    through_defaults = dict(resolve_callables(through_defaults or {}))
    target_ids = manager._get_target_ids(target_field_name, objs)
    db = router.db_for_write(manager.through, instance=manager.instance)
    can_ignore_conflicts, must_send_signals, can_fast_add = manager._get_add_plan(
        db, source_field_name
    )
    through_manager = manager.through._default_manager.using(db)
    if can_fast_add:
        yield from bulk_create(
            through_manager,
            [
                manager.through(
                    **{
                        f"{source_field_name}_id": manager.related_val[0],
                        f"{target_field_name}_id": target_id,
                    }
                )
                for target_id in target_ids
            ],
            ignore_conflicts=True,
        )
        return None
    missing_target_ids = yield from replay(
        manager._get_missing_target_ids, source_field_name, target_field_name, db, target_ids
    )
    yield from atomic(
        db,
        _add_missing(
            manager,
            source_field_name,
            target_field_name,
            missing_target_ids,
            through_defaults,
            can_ignore_conflicts,
            must_send_signals,
            db,
        ),
        savepoint=False,
    )
    return None


def _add_missing(
    manager: Any,
    source_field_name: str,
    target_field_name: str,
    missing_target_ids: set[Any],
    through_defaults: dict[str, Any],
    can_ignore_conflicts: bool,
    must_send_signals: bool,
    db: str,
) -> Plan[None]:
    if must_send_signals:
        yield from _m2m_changed(manager, "pre_add", missing_target_ids, db)
    yield from bulk_create(
        manager.through._default_manager.using(db),
        [
            manager.through(
                **through_defaults,
                **{
                    f"{source_field_name}_id": manager.related_val[0],
                    f"{target_field_name}_id": target_id,
                },
            )
            for target_id in missing_target_ids
        ],
        ignore_conflicts=can_ignore_conflicts,
    )
    if must_send_signals:
        yield from _m2m_changed(manager, "post_add", missing_target_ids, db)


def m2m_remove(cls: Any, manager: Any, objs: tuple[Any, ...]) -> Plan[None]:
    """Mirrors ``ManyRelatedManager.remove()`` and ``_remove_items()``."""
    manager._remove_prefetched_objects()
    if not objs:
        return None
    old_ids = set()
    for obj in objs:
        if isinstance(obj, manager.model):
            old_ids.add(manager.target_field.get_foreign_related_value(obj)[0])
        else:
            old_ids.add(obj)
    db = router.db_for_write(manager.through, instance=manager.instance)
    yield from atomic(db, _remove_items(cls, manager, old_ids, db), savepoint=False)
    return None


def _remove_items(cls: Any, manager: Any, old_ids: set[Any], db: str) -> Plan[None]:
    yield from _m2m_changed(manager, "pre_remove", old_ids, db)
    target_model_qs = super(cls, manager).get_queryset()
    if target_model_qs._has_filters():
        old_vals = target_model_qs.using(db).filter(
            **{f"{manager.target_field.target_field.attname}__in": old_ids}
        )
    else:
        old_vals = old_ids
    filters = manager._build_remove_filters(old_vals)
    yield from delete_queryset(manager.through._default_manager.using(db).filter(filters))
    yield from _m2m_changed(manager, "post_remove", old_ids, db)


def m2m_clear(cls: Any, manager: Any) -> Plan[None]:
    """Mirrors ``ManyRelatedManager.clear()``."""
    db = router.db_for_write(manager.through, instance=manager.instance)
    yield from atomic(db, _m2m_clear(cls, manager, db), savepoint=False)


def _m2m_clear(cls: Any, manager: Any, db: str) -> Plan[None]:
    yield from _m2m_changed(manager, "pre_clear", None, db)
    manager._remove_prefetched_objects()
    filters = manager._build_remove_filters(super(cls, manager).get_queryset().using(db))
    yield from delete_queryset(manager.through._default_manager.using(db).filter(filters))
    yield from _m2m_changed(manager, "post_clear", None, db)


def m2m_set(cls: Any, manager: Any, objs: Any, clear: bool, through_defaults: Any) -> Plan[None]:
    """Mirrors ``ManyRelatedManager.set()``."""
    objs = yield from materialize(objs)
    db = router.db_for_write(manager.through, instance=manager.instance)
    yield from atomic(
        db, _m2m_set(cls, manager, objs, clear, through_defaults, db), savepoint=False
    )


def _m2m_set(
    cls: Any,
    manager: Any,
    objs: tuple[Any, ...],
    clear: bool,
    through_defaults: Any,
    db: str,
) -> Plan[None]:
    if clear:
        yield from m2m_clear(cls, manager)
        yield from m2m_add(cls, manager, objs, through_defaults)
        return
    old_ids = set(
        (
            yield from evaluate(
                manager.using(db).values_list(manager.target_field.target_field.attname, flat=True)
            )
        )
    )
    new_objs = []
    for obj in objs:
        fk_val = (
            manager.target_field.get_foreign_related_value(obj)[0]
            if isinstance(obj, manager.model)
            else manager.target_field.get_prep_value(obj)
        )
        if fk_val in old_ids:
            old_ids.remove(fk_val)
        else:
            new_objs.append(obj)
    yield from m2m_remove(cls, manager, tuple(old_ids))
    yield from m2m_add(cls, manager, tuple(new_objs), through_defaults)


def m2m_create(cls: Any, manager: Any, through_defaults: Any, kwargs: dict[str, Any]) -> Plan[Any]:
    """Mirrors ``ManyRelatedManager.create()``."""
    db = router.db_for_write(manager.instance.__class__, instance=manager.instance)
    new_obj = yield from create(manager.db_manager(db).get_queryset(), kwargs)
    yield from m2m_add(cls, manager, (new_obj,), through_defaults)
    return new_obj


def m2m_get_or_create(
    cls: Any, manager: Any, through_defaults: Any, kwargs: dict[str, Any], update: bool
) -> Plan[tuple[Any, bool]]:
    """Mirrors ``ManyRelatedManager.get_or_create()`` / ``update_or_create()``."""
    db = router.db_for_write(manager.instance.__class__, instance=manager.instance)
    queryset = manager.db_manager(db).get_queryset()
    defaults, create_defaults, lookup = _split_defaults(kwargs, update)
    if update:
        obj, created = yield from update_or_create(queryset, defaults, create_defaults, lookup)
    else:
        obj, created = yield from get_or_create(queryset, defaults, lookup)
    if created:
        yield from m2m_add(cls, manager, (obj,), through_defaults)
    return obj, created


# --- generic relations (create_generic_related_manager) ---------------------------------------


def generic_add(cls: Any, manager: Any, objs: tuple[Any, ...], bulk: bool) -> Plan[None]:
    """Mirrors ``GenericRelatedObjectManager.add()``."""
    manager._remove_prefetched_objects()
    db = router.db_for_write(manager.model, instance=manager.instance)

    def check_and_update_obj(obj: Any) -> None:
        if not isinstance(obj, manager.model):
            raise TypeError(f"'{manager.model._meta.object_name}' instance expected, got {obj!r}")
        setattr(obj, manager.content_type_field_name, manager.content_type)
        setattr(obj, manager.object_id_field_name, manager.pk_val)

    if bulk:
        pks = []
        for obj in objs:
            if obj._state.adding or obj._state.db != db:
                raise ValueError(
                    f"{obj!r} instance isn't saved. Use bulk=False or save the object first."
                )
            check_and_update_obj(obj)
            pks.append(obj.pk)
        yield from update(
            manager.model._base_manager.using(db).filter(pk__in=pks),
            {
                manager.content_type_field_name: manager.content_type,
                manager.object_id_field_name: manager.pk_val,
            },
        )
    else:
        yield from atomic(db, _save_each(objs, check_and_update_obj), savepoint=False)


def generic_remove(cls: Any, manager: Any, objs: tuple[Any, ...], bulk: bool) -> Plan[None]:
    """Mirrors ``GenericRelatedObjectManager.remove()``."""
    if not objs:
        return None
    yield from generic_clear_queryset(
        cls, manager, manager.filter(pk__in=[o.pk for o in objs]), bulk
    )
    return None


def generic_clear(cls: Any, manager: Any, bulk: bool) -> Plan[None]:
    """Mirrors ``GenericRelatedObjectManager.clear()``."""
    yield from generic_clear_queryset(cls, manager, manager, bulk)


def generic_clear_queryset(cls: Any, manager: Any, queryset: Any, bulk: bool) -> Plan[None]:
    """Mirrors ``GenericRelatedObjectManager._clear()``."""
    manager._remove_prefetched_objects()
    db = router.db_for_write(manager.model, instance=manager.instance)
    queryset = queryset.using(db)
    if bulk:
        yield from delete_queryset(queryset)
    else:
        yield from atomic(db, _delete_each(queryset), savepoint=False)


def _delete_each(queryset: Any) -> Plan[None]:
    for obj in (yield from _all(queryset)):
        yield from delete_instance(obj, None, False)


def generic_set(cls: Any, manager: Any, objs: Any, bulk: bool, clear: bool) -> Plan[None]:
    """Mirrors ``GenericRelatedObjectManager.set()``."""
    objs = yield from materialize(objs)
    db = router.db_for_write(manager.model, instance=manager.instance)
    yield from atomic(db, _generic_set(cls, manager, objs, bulk, clear, db), savepoint=False)


def _generic_set(
    cls: Any, manager: Any, objs: tuple[Any, ...], bulk: bool, clear: bool, db: str
) -> Plan[None]:
    if clear:
        yield from generic_clear(cls, manager, True)
        yield from generic_add(cls, manager, objs, bulk)
        return
    old_objs, new_objs = yield from _set_difference(manager, objs, db)
    yield from generic_remove(cls, manager, old_objs, True)
    yield from generic_add(cls, manager, new_objs, bulk)


def _generic_kwargs(manager: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        **kwargs,
        manager.content_type_field_name: manager.content_type,
        manager.object_id_field_name: manager.pk_val,
    }


def generic_create(cls: Any, manager: Any, kwargs: dict[str, Any]) -> Plan[Any]:
    """Mirrors ``GenericRelatedObjectManager.create()``."""
    manager._remove_prefetched_objects()
    kwargs = _generic_kwargs(manager, kwargs)
    db = router.db_for_write(manager.model, instance=manager.instance)
    return (yield from create(manager.get_queryset().using(db), kwargs))


def generic_get_or_create(
    cls: Any, manager: Any, kwargs: dict[str, Any], update: bool
) -> Plan[tuple[Any, bool]]:
    """Mirrors ``GenericRelatedObjectManager.get_or_create()`` / ``update_or_create()``."""
    defaults, create_defaults, lookup = _split_defaults(_generic_kwargs(manager, kwargs), update)
    db = router.db_for_write(manager.model, instance=manager.instance)
    queryset = manager.get_queryset().using(db)
    if update:
        return (yield from update_or_create(queryset, defaults, create_defaults, lookup))
    return (yield from get_or_create(queryset, defaults, lookup))
