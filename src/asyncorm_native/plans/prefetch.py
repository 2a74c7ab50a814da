"""Plan for ``prefetch_related_objects()``: every prefetch query runs natively.

Mirrors ``django.db.models.query.prefetch_related_objects()`` and
``prefetch_one_level()`` of Django 5.2, with ``list(rel_qs)`` replaced by the
native evaluation. Django's helpers do the rest: ``normalize_prefetch_lookups``,
``get_prefetcher``, ``Prefetch`` and each descriptor's or manager's
``get_prefetch_querysets()``. Several of those run queries themselves (reverse
foreign keys and one-to-ones evaluate their queryset to set reverse caches,
``GenericForeignKey`` looks up content types and objects): they run under
:func:`.intercept.replay`, so their queries are native too.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from django.core import exceptions
from django.db.models.constants import LOOKUP_SEP
from django.db.models.query import get_prefetcher, normalize_prefetch_lookups
from django.utils.deprecation import RemovedInDjango60Warning

from ..steps import Plan
from .intercept import replay
from .rows import evaluate


def prefetch_related_objects(model_instances: list[Any], *related_lookups: Any) -> Plan[None]:
    """Mirrors ``prefetch_related_objects()``."""
    if not model_instances:
        return None

    done_queries: dict[str, list[Any]] = {}
    auto_lookups: set[Any] = set()
    followed_descriptors: set[Any] = set()

    all_lookups = normalize_prefetch_lookups(reversed(related_lookups))
    while all_lookups:
        lookup = all_lookups.pop()
        if lookup.prefetch_to in done_queries:
            if lookup.queryset is not None:
                raise ValueError(
                    f"'{lookup.prefetch_to}' lookup was already seen with a different "
                    "queryset. You may need to adjust the ordering of your lookups."
                )
            continue

        obj_list = model_instances
        through_attrs = lookup.prefetch_through.split(LOOKUP_SEP)
        for level, through_attr in enumerate(through_attrs):
            if not obj_list:
                break

            prefetch_to = lookup.get_current_prefetch_to(level)
            if prefetch_to in done_queries:
                obj_list = done_queries[prefetch_to]
                continue

            good_objects = True
            for obj in obj_list:
                if not hasattr(obj, "_prefetched_objects_cache"):
                    try:
                        obj._prefetched_objects_cache = {}
                    except (AttributeError, TypeError):
                        good_objects = False
                        break
            if not good_objects:
                break

            first_obj = obj_list[0]
            to_attr = lookup.get_current_to_attr(level)[0]
            prefetcher, descriptor, attr_found, is_fetched = yield from replay(
                get_prefetcher, first_obj, through_attr, to_attr
            )

            if not attr_found:
                raise AttributeError(
                    f"Cannot find '{through_attr}' on {first_obj.__class__.__name__} "
                    f"object, '{lookup.prefetch_through}' is an invalid "
                    "parameter to prefetch_related()"
                )

            if level == len(through_attrs) - 1 and prefetcher is None:
                raise ValueError(
                    f"'{lookup.prefetch_through}' does not resolve to an item that supports "
                    "prefetching - this is an invalid parameter to "
                    "prefetch_related()."
                )

            obj_to_fetch = None
            if prefetcher is not None:
                obj_to_fetch = [obj for obj in obj_list if not is_fetched(obj)]

            if obj_to_fetch:
                obj_list, additional_lookups = yield from prefetch_one_level(
                    obj_to_fetch, prefetcher, lookup, level
                )
                if not (
                    prefetch_to in done_queries
                    and lookup in auto_lookups
                    and descriptor in followed_descriptors
                ):
                    done_queries[prefetch_to] = obj_list
                    new_lookups = normalize_prefetch_lookups(
                        reversed(additional_lookups), prefetch_to
                    )
                    auto_lookups.update(new_lookups)
                    all_lookups.extend(new_lookups)
                followed_descriptors.add(descriptor)
            else:
                new_obj_list = []
                for obj in obj_list:
                    if through_attr in getattr(obj, "_prefetched_objects_cache", ()):
                        new_obj = list(obj._prefetched_objects_cache.get(through_attr))
                    else:
                        try:
                            new_obj = yield from replay(getattr, obj, through_attr)
                        except exceptions.ObjectDoesNotExist:
                            continue
                    if new_obj is None:
                        continue
                    if isinstance(new_obj, list):
                        new_obj_list.extend(new_obj)
                    else:
                        new_obj_list.append(new_obj)
                obj_list = new_obj_list
    return None


def _get_prefetch_querysets(prefetcher: Any, instances: list[Any], querysets: Any) -> tuple:
    """Mirrors the call in ``prefetch_one_level()`` (deprecated ``get_prefetch_queryset()`` too)."""
    if hasattr(prefetcher, "get_prefetch_querysets"):
        return prefetcher.get_prefetch_querysets(instances, querysets)
    warnings.warn(
        "The usage of get_prefetch_queryset() in prefetch_related_objects() is "
        "deprecated. Implement get_prefetch_querysets() instead.",
        RemovedInDjango60Warning,
        stacklevel=2,
    )
    return prefetcher.get_prefetch_queryset(instances, querysets[0] if querysets else None)


def prefetch_one_level(
    instances: list[Any], prefetcher: Any, lookup: Any, level: int
) -> Plan[tuple[list[Any], list[Any]]]:
    """Mirrors ``prefetch_one_level()``."""
    (
        rel_qs,
        rel_obj_attr,
        instance_attr,
        single,
        cache_name,
        is_descriptor,
    ) = yield from replay(
        _get_prefetch_querysets, prefetcher, instances, lookup.get_current_querysets(level)
    )
    additional_lookups = [
        copy.copy(additional_lookup)
        for additional_lookup in getattr(rel_qs, "_prefetch_related_lookups", ())
    ]
    if additional_lookups:
        rel_qs._prefetch_related_lookups = ()

    if isinstance(rel_qs, list):
        all_related_objects = rel_qs
    else:
        all_related_objects = list((yield from evaluate(rel_qs)))

    rel_obj_cache: dict[Any, list[Any]] = {}
    for rel_obj in all_related_objects:
        rel_attr_val = rel_obj_attr(rel_obj)
        rel_obj_cache.setdefault(rel_attr_val, []).append(rel_obj)

    to_attr, as_attr = lookup.get_current_to_attr(level)
    if as_attr and instances:
        model = instances[0].__class__
        try:
            model._meta.get_field(to_attr)
        except exceptions.FieldDoesNotExist:
            pass
        else:
            msg = "to_attr={} conflicts with a field on the {} model."
            raise ValueError(msg.format(to_attr, model.__name__))

    leaf = len(lookup.prefetch_through.split(LOOKUP_SEP)) - 1 == level

    for obj in instances:
        instance_attr_val = instance_attr(obj)
        vals = rel_obj_cache.get(instance_attr_val, [])

        if single:
            val = vals[0] if vals else None
            if as_attr:
                setattr(obj, to_attr, val)
            elif is_descriptor:
                setattr(obj, cache_name, val)
            else:
                obj._state.fields_cache[cache_name] = val
        else:
            if as_attr:
                setattr(obj, to_attr, vals)
            else:
                manager = getattr(obj, to_attr)
                if leaf and lookup.queryset is not None:
                    qs = manager._apply_rel_filters(lookup.queryset)
                else:
                    qs = manager.get_queryset()
                qs._result_cache = vals
                qs._prefetch_done = True
                obj._prefetched_objects_cache[cache_name] = qs
    return all_related_objects, additional_lookups


def _content_types(manager: Any, ids: set[Any]) -> Plan[None]:
    """Load the content types ``ids`` that the manager's cache lacks into that cache."""
    cache = manager._cache.get(manager.db, {})
    missing = {ct_id for ct_id in ids if ct_id not in cache}
    if missing:
        for ct in (yield from evaluate(manager.filter(pk__in=missing))):
            manager._add_to_cache(manager.db, ct)
