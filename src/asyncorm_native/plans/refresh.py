"""Plan for ``Model.refresh_from_db()``: mirrors Django 5.2, its ``get()`` run natively."""

from __future__ import annotations

from typing import Any

from django.db.models.constants import LOOKUP_SEP

from ..steps import Plan
from . import queryset as queryset_plans


def alias_for(obj: Any, using: str | None, from_queryset: Any) -> str:
    """The database ``refresh_from_db()`` reads from."""
    if using is not None:
        return using
    if from_queryset is not None:
        return from_queryset.db
    hints = {"instance": obj}
    return obj.__class__._base_manager.db_manager(None, hints=hints).db


def refresh_from_db(
    obj: Any, using: str | None = None, fields: Any = None, from_queryset: Any = None
) -> Plan[None]:
    """Mirrors ``Model.refresh_from_db()``."""
    if fields is None:
        obj._prefetched_objects_cache = {}
    else:
        prefetched_objects_cache = getattr(obj, "_prefetched_objects_cache", ())
        fields = set(fields)
        for field in fields.copy():
            if field in prefetched_objects_cache:
                del prefetched_objects_cache[field]
                fields.remove(field)
        if not fields:
            return None
        if any(LOOKUP_SEP in f for f in fields):
            raise ValueError(
                f'Found "{LOOKUP_SEP}" in fields argument. Relations and transforms '
                "are not allowed in fields."
            )

    if from_queryset is None:
        hints = {"instance": obj}
        from_queryset = obj.__class__._base_manager.db_manager(using, hints=hints)
    elif using is not None:
        from_queryset = from_queryset.using(using)

    db_instance_qs = from_queryset.filter(pk=obj.pk)

    deferred_fields = obj.get_deferred_fields()
    if fields is not None:
        db_instance_qs = db_instance_qs.only(*fields)
    elif deferred_fields:
        db_instance_qs = db_instance_qs.only(
            *{f.attname for f in obj._meta.concrete_fields if f.attname not in deferred_fields}
        )

    db_instance = yield from queryset_plans.get(db_instance_qs, (), {})
    non_loaded_fields = db_instance.get_deferred_fields()
    for field in obj._meta.concrete_fields:
        if field.attname in non_loaded_fields:
            continue
        setattr(obj, field.attname, getattr(db_instance, field.attname))
        if field.is_relation:
            if field.is_cached(db_instance):
                field.set_cached_value(obj, field.get_cached_value(db_instance))
            elif field.is_cached(obj):
                field.delete_cached_value(obj)

    for rel in obj._meta.related_objects:
        if (fields is None or rel.name in fields) and rel.is_cached(obj):
            rel.delete_cached_value(obj)

    for field in obj._meta.private_fields:
        if (fields is None or field.name in fields) and field.is_relation and field.is_cached(obj):
            field.delete_cached_value(obj)

    obj._state.db = db_instance._state.db
    return None
