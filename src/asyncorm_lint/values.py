"""Abstract values: what the analysis knows an expression evaluates to."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class V(Enum):
    MODEL_CLASS = "model class"
    MANAGER = "manager"
    QUERYSET = "queryset"
    RELATED_MANAGER = "related manager"
    INSTANCE = "model instance"
    LAZY_USER = "request.user"  # SimpleLazyObject: resolving it queries
    REQUEST = "request"
    SESSION = "session"
    PAGINATOR = "paginator"
    MODEL_FORM_CLASS = "model form class"
    MODEL_FORM = "model form"
    CONTEXT = "template context"  # a dict holding a lazy queryset
    TUPLE = "tuple"
    CONNECTION = "connection"
    CALLABLE = "callable"  # ``model`` holds the function reference
    SCOPE = "ASGI scope"  # Channels consumers: self.scope["session"] is a lazy session
    SERIALIZER_CLASS = "DRF model serializer class"
    SERIALIZER = "DRF model serializer"
    QUERYSET_SERIALIZER = "DRF serializer over a lazy queryset"  # .data evaluates it


ALL = None  # select_related() with no arguments: every non-null forward relation


@dataclass(frozen=True)
class Value:
    """One abstract value. ``model`` is a model key from the index (or a best-effort name).

    For querysets and instances the fetch state travels along: which relations were
    ``select_related``/``prefetch_related``, which fields ``only``/``defer`` left out,
    whether rows are model instances (not ``values()`` dicts), whether the instance was
    built in this function, and whether the queryset came back from ``sync_to_async``.
    """

    kind: V
    model: str | None = None
    rows_are_instances: bool = True
    select_related: frozenset[str] | None = frozenset()  # None = all
    prefetched: frozenset[str] = frozenset()
    only: frozenset[str] | None = None
    deferred: frozenset[str] = frozenset()
    fresh: bool = False
    wrapped_by: str | None = (
        None  # "sync_to_async(Article.objects.filter)" when lazy from a wrapper
    )
    items: tuple[Value | None, ...] = ()
    manager_attr: str = "objects"
    # Known only by Django's default name (``obj.comment_set``): methods a plain Python
    # container also has (``add``, ``remove``, ``update``...) are not taken for queries.
    by_name: bool = False

    def but(self, **changes: object) -> Value:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def is_queryset_like(self) -> bool:
        return self.kind in (V.MANAGER, V.QUERYSET, V.RELATED_MANAGER)

    def related_value(self, attr: str, kind: V, model: str | None) -> Value:
        """The value reached through relation ``attr``, carrying nested fetch state."""
        prefix = attr + "__"
        if self.select_related is ALL:
            nested: frozenset[str] | None = ALL
        else:
            nested = frozenset(
                p[len(prefix) :] for p in self.select_related if p.startswith(prefix)
            )
        prefetched = frozenset(p[len(prefix) :] for p in self.prefetched if p.startswith(prefix))
        return Value(kind, model, select_related=nested, prefetched=prefetched)

    def is_loaded(self, attr: str) -> bool:
        """True when relation ``attr`` was fetched with the instance."""
        if self.fresh:
            return True
        if self.select_related is ALL or attr in (self.select_related or ()):
            return True
        return attr in self.prefetched
