"""Plans for ``Model.delete()``, ``QuerySet.delete()`` and ``QuerySet.update()``.

Deletion is Django's ``Collector``: ``collect()`` (cascades, ``SET_NULL``,
``PROTECT``/``RESTRICT`` errors) only reads, so it runs unchanged under replay
with its queries fetched natively, on a fresh collector per run.
``Collector.delete()`` interleaves statements and signals: it is mirrored
(Django 5.2), each statement Django's own ``DeleteQuery.delete_batch()``,
``UpdateQuery.update_batch()``, ``QuerySet._raw_delete()`` or ``update()``.
"""

from __future__ import annotations

from collections import Counter
from functools import reduce
from operator import attrgetter, or_
from typing import Any

from django.db import router
from django.db.models import QuerySet, signals, sql
from django.db.models.deletion import Collector

from ..steps import Plan
from .dml import perform, run_statement
from .intercept import replay, run_until_sql
from .transaction import atomic, mark_for_rollback_on_error, send


def update(queryset: Any, kwargs: dict[str, Any]) -> Plan[int]:
    """``QuerySet.update()``: Django's method up to its UPDATE, run natively."""
    value, request = run_until_sql(queryset.update, **kwargs)
    if request is None:
        return value
    rows = yield from mark_for_rollback_on_error(
        queryset.db, perform(request, queryset.update, **kwargs)
    )
    queryset._result_cache = None
    return rows


def _collect(using: str, origin: Any, objs: Any, keep_parents: bool = False) -> Collector:
    if isinstance(objs, QuerySet):
        objs = objs._chain()  # every replay starts from an unevaluated queryset
    collector = Collector(using=using, origin=origin)
    collector.collect(objs, keep_parents=keep_parents)
    return collector


def delete_instance(obj: Any, using: str | None, keep_parents: bool) -> Plan[tuple[int, dict]]:
    """Mirrors ``Model.delete()``."""
    if not obj._is_pk_set():
        raise ValueError(
            f"{obj._meta.object_name} object can't be deleted because its "
            f"{obj._meta.pk.attname} attribute is set to None."
        )
    using = using or router.db_for_write(obj.__class__, instance=obj)
    collector = yield from replay(_collect, using, obj, [obj], keep_parents)
    return (yield from delete_collected(collector))


def delete_queryset(queryset: Any) -> Plan[tuple[int, dict]]:
    """Mirrors ``QuerySet.delete()``."""
    queryset._not_support_combined_queries("delete")
    if queryset.query.is_sliced:
        raise TypeError("Cannot use 'limit' or 'offset' with delete().")
    if queryset.query.distinct_fields:
        raise TypeError("Cannot call delete() after .distinct(*fields).")
    if queryset._fields is not None:
        raise TypeError("Cannot call delete() after .values() or .values_list()")
    del_query = queryset._chain()
    del_query._for_write = True
    del_query.query.select_for_update = False
    del_query.query.select_related = False
    del_query.query.clear_ordering(force=True)
    collector = yield from replay(_collect, del_query.db, queryset, del_query)
    num_deleted, num_deleted_per_model = yield from delete_collected(collector)
    queryset._result_cache = None
    return num_deleted, num_deleted_per_model


def _delete_batch(model: Any, pk_list: list[Any], using: str) -> Plan[int]:
    """``sql.DeleteQuery(model).delete_batch(pk_list, using)``, a fresh query per replay."""
    return (
        yield from replay(lambda: sql.DeleteQuery(model).delete_batch(pk_list, using), writes=True)
    )


def delete_collected(collector: Collector) -> Plan[tuple[int, dict]]:
    """Mirrors ``Collector.delete()``."""
    for model, instances in collector.data.items():
        collector.data[model] = sorted(instances, key=attrgetter("pk"))
    collector.sort()
    deleted_counter: Counter[str] = Counter()
    if len(collector.data) == 1 and len(instances) == 1:
        instance = next(iter(instances))
        if collector.can_fast_delete(instance):
            count = yield from mark_for_rollback_on_error(
                collector.using, _delete_batch(model, [instance.pk], collector.using)
            )
            setattr(instance, model._meta.pk.attname, None)
            return count, {model._meta.label: count}
    yield from atomic(collector.using, _delete_all(collector, deleted_counter), savepoint=False)
    for model, instances in collector.data.items():
        for instance in instances:
            setattr(instance, model._meta.pk.attname, None)
    return sum(deleted_counter.values()), dict(deleted_counter)


def _delete_all(collector: Collector, deleted_counter: Counter[str]) -> Plan[None]:
    """The body of ``Collector.delete()``'s ``atomic()`` block."""
    using = collector.using
    for model, obj in collector.instances_with_model():
        if not model._meta.auto_created:
            yield from send(
                signals.pre_delete, model, instance=obj, using=using, origin=collector.origin
            )
    for qs in collector.fast_deletes:
        count = yield from run_statement(qs._raw_delete, using=using)
        if count:
            deleted_counter[qs.model._meta.label] += count
    for (field, value), instances_list in collector.field_updates.items():
        updates = []
        objs = []
        for instances in instances_list:
            if isinstance(instances, QuerySet) and instances._result_cache is None:
                updates.append(instances)
            else:
                objs.extend(instances)
        if updates:
            combined_updates = reduce(or_, updates)
            yield from update(combined_updates, {field.name: value})
        if objs:
            model = objs[0].__class__
            pks = list({obj.pk for obj in objs})
            values = {field.name: value}
            yield from replay(
                lambda model=model, pks=pks, values=values: sql.UpdateQuery(model).update_batch(
                    pks, values, using
                ),
                writes=True,
            )
    for instances in collector.data.values():
        instances.reverse()
    for model, instances in collector.data.items():
        count = yield from _delete_batch(model, [obj.pk for obj in instances], using)
        if count:
            deleted_counter[model._meta.label] += count
        if not model._meta.auto_created:
            for obj in instances:
                yield from send(
                    signals.post_delete, model, instance=obj, using=using, origin=collector.origin
                )
