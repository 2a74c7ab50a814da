"""Plans for ``QuerySet.bulk_create()`` and ``bulk_update()``.

Mirrors Django 5.2's ``bulk_create()``, ``_batched_insert()`` and
``bulk_update()``: the option checks and object preparation are Django's own
helpers (``_check_bulk_create_options()``, ``_prepare_for_bulk_create()``),
each batch is Django's ``_insert()`` (primary keys returned where the backend
returns rows) or ``update()``, run natively inside the
``atomic(savepoint=False)`` Django opens.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import AutoField, Case, Value, When
from django.db.models.constants import OnConflict
from django.db.models.functions import Cast
from django.utils.functional import partition

from ..steps import Plan
from .delete import update
from .dml import run_statement
from .transaction import atomic


def bulk_create(
    queryset: Any,
    objs: Any,
    batch_size: int | None = None,
    ignore_conflicts: bool = False,
    update_conflicts: bool = False,
    update_fields: Any = None,
    unique_fields: Any = None,
) -> Plan[Any]:
    """Mirrors ``QuerySet.bulk_create()``."""
    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    model = queryset.model
    for parent in model._meta.all_parents:
        if parent._meta.concrete_model is not model._meta.concrete_model:
            raise ValueError("Can't bulk create a multi-table inherited model")
    if not objs:
        return objs
    opts = model._meta
    if unique_fields:
        unique_fields = [
            opts.get_field(opts.pk.name if name == "pk" else name) for name in unique_fields
        ]
    if update_fields:
        update_fields = [opts.get_field(name) for name in update_fields]
    on_conflict = queryset._check_bulk_create_options(
        ignore_conflicts, update_conflicts, update_fields, unique_fields
    )
    queryset._for_write = True
    fields = [f for f in opts.concrete_fields if not f.generated]
    objs = list(objs)
    queryset._prepare_for_bulk_create(objs)
    yield from atomic(
        queryset.db,
        _insert_all(queryset, objs, fields, batch_size, on_conflict, update_fields, unique_fields),
        savepoint=False,
    )
    return objs


def _insert_all(
    queryset: Any,
    objs: list[Any],
    fields: list[Any],
    batch_size: int | None,
    on_conflict: Any,
    update_fields: Any,
    unique_fields: Any,
) -> Plan[None]:
    """The body of ``bulk_create()``'s ``atomic()`` block."""
    opts = queryset.model._meta
    objs_without_pk, objs_with_pk = partition(lambda o: o._is_pk_set(), objs)
    if objs_with_pk:
        returned_columns = yield from _batched_insert(
            queryset, objs_with_pk, fields, batch_size, on_conflict, update_fields, unique_fields
        )
        for obj_with_pk, results in zip(objs_with_pk, returned_columns, strict=False):
            for result, field in zip(results, opts.db_returning_fields, strict=False):
                if field != opts.pk:
                    setattr(obj_with_pk, field.attname, result)
        for obj_with_pk in objs_with_pk:
            obj_with_pk._state.adding = False
            obj_with_pk._state.db = queryset.db
    if objs_without_pk:
        fields = [f for f in fields if not isinstance(f, AutoField)]
        returned_columns = yield from _batched_insert(
            queryset, objs_without_pk, fields, batch_size, on_conflict, update_fields, unique_fields
        )
        connection = connections[queryset.db]
        if connection.features.can_return_rows_from_bulk_insert and on_conflict is None:
            assert len(returned_columns) == len(objs_without_pk)
        for obj_without_pk, results in zip(objs_without_pk, returned_columns, strict=False):
            for result, field in zip(results, opts.db_returning_fields, strict=False):
                setattr(obj_without_pk, field.attname, result)
            obj_without_pk._state.adding = False
            obj_without_pk._state.db = queryset.db


def _batched_insert(
    queryset: Any,
    objs: list[Any],
    fields: list[Any],
    batch_size: int | None,
    on_conflict: Any = None,
    update_fields: Any = None,
    unique_fields: Any = None,
) -> Plan[list[Any]]:
    """Mirrors ``QuerySet._batched_insert()``."""
    connection = connections[queryset.db]
    ops = connection.ops
    max_batch_size = max(ops.bulk_batch_size(fields, objs), 1)
    batch_size = min(batch_size, max_batch_size) if batch_size else max_batch_size
    inserted_rows: list[Any] = []
    bulk_return = connection.features.can_return_rows_from_bulk_insert
    for item in [objs[i : i + batch_size] for i in range(0, len(objs), batch_size)]:
        if bulk_return and (on_conflict is None or on_conflict == OnConflict.UPDATE):
            inserted_rows.extend(
                (
                    yield from run_statement(
                        queryset._insert,
                        item,
                        fields=fields,
                        using=queryset.db,
                        on_conflict=on_conflict,
                        update_fields=update_fields,
                        unique_fields=unique_fields,
                        returning_fields=queryset.model._meta.db_returning_fields,
                    )
                )
            )
        else:
            yield from run_statement(
                queryset._insert,
                item,
                fields=fields,
                using=queryset.db,
                on_conflict=on_conflict,
                update_fields=update_fields,
                unique_fields=unique_fields,
            )
    return inserted_rows


def bulk_update(queryset: Any, objs: Any, fields: Any, batch_size: int | None = None) -> Plan[int]:
    """Mirrors ``QuerySet.bulk_update()``."""
    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    if not fields:
        raise ValueError("Field names must be given to bulk_update().")
    objs = tuple(objs)
    if not all(obj._is_pk_set() for obj in objs):
        raise ValueError("All bulk_update() objects must have a primary key set.")
    opts = queryset.model._meta
    fields = [opts.get_field(name) for name in fields]
    if any(not f.concrete or f.many_to_many for f in fields):
        raise ValueError("bulk_update() can only be used with concrete fields.")
    all_pk_fields = set(opts.pk_fields)
    for parent in opts.all_parents:
        all_pk_fields.update(parent._meta.pk_fields)
    if any(f in all_pk_fields for f in fields):
        raise ValueError("bulk_update() cannot be used with primary key fields.")
    if not objs:
        return 0
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_update", fields=fields)
    queryset._for_write = True
    connection = connections[queryset.db]
    max_batch_size = connection.ops.bulk_batch_size([opts.pk, opts.pk, *fields], objs)
    batch_size = min(batch_size, max_batch_size) if batch_size else max_batch_size
    requires_casting = connection.features.requires_casted_case_in_updates
    batches = (objs[i : i + batch_size] for i in range(0, len(objs), batch_size))
    updates = []
    for batch_objs in batches:
        update_kwargs = {}
        for field in fields:
            when_statements = []
            for obj in batch_objs:
                attr = getattr(obj, field.attname)
                if not hasattr(attr, "resolve_expression"):
                    attr = Value(attr, output_field=field)
                when_statements.append(When(pk=obj.pk, then=attr))
            case_statement = Case(*when_statements, output_field=field)
            if requires_casting:
                case_statement = Cast(case_statement, output_field=field)
            update_kwargs[field.attname] = case_statement
        updates.append(([obj.pk for obj in batch_objs], update_kwargs))
    target = queryset.using(queryset.db)
    return (yield from atomic(queryset.db, _update_all(target, updates), savepoint=False))


def _update_all(queryset: Any, updates: list[tuple[list[Any], dict[str, Any]]]) -> Plan[int]:
    rows_updated = 0
    for pks, update_kwargs in updates:
        rows_updated += yield from update(queryset.filter(pk__in=pks), update_kwargs)
    return rows_updated
