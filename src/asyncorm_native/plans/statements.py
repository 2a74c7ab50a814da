"""Statement cache: later calls of one queryset *shape* reuse Django's compiled SQL.

The first call of a shape runs Django's path in full (for ``get()``:
``filter()``, ``order_by()``, ``set_limits()``; then the compiler's
``as_sql()``). When the compiled statement qualifies, it is kept with its
compiler (whose ``select``, ``klass_info`` and converters the iterable needs).
A later call of the same shape with other values only compiles its lookups
with Django's compiler (``get_db_prep_value()`` and the lookup's SQL):

* the lookups already in the queryset's WHERE (``filter(author=a)``, a related
  or custom manager's filter), which Django's ``filter()`` built;
* for ``get(**kwargs)``, each keyword's lookup, built with Django's own lookup
  class and left-hand side from the first call (``lookup_class(lhs, value)``
  prepares the value with the field's ``get_prep_value()``), after Django's
  ``check_related_objects()``.

The statement is reused only if every lookup compiles to the very SQL fragment
it had in the kept statement; the parameters are then the lookups' parameters,
in order.

**Shape** (the key). The purpose (``get`` and its keyword names, sorted as
Django's ``Q`` sorts them, or evaluating the queryset), the queryset's class,
iterable class, ``values()`` fields, database alias, and a signature of its
``Query``: every attribute of ``query.__dict__`` (cached properties aside),
reduced to plain values. Only plain values, containers of them, the model, the
base table and joins, bound fields, ``Col``, ``Value`` and ``RawSQL`` (by
their attributes; unbound output fields by ``deconstruct()``) can be signed,
and a WHERE that is an AND of lookups on columns (by class and left-hand side,
the value left out). Anything else (OR, NOT, subqueries, expressions,
aggregates, ordering expressions...) makes the queryset uncacheable: it runs
Django's path every time.

**What qualifies** (checked on the first call, with its values): each keyword
of ``get()`` gave one lookup on a column of the base table, which the hit path
rebuilds with the same SQL and parameters; and nothing but the lookups takes a
parameter in the statement (so the parameter list is exactly theirs).

**What goes the full path anyway**, per call: a value that is an expression,
a queryset, a list, tuple or iterator (Django resolves those), a value that
prepares to None (Django turns ``exact=None`` into ``IS NULL``) or to ``""``
on a backend that treats it as NULL, a lookup that compiles to other SQL
(``bool_field=False`` is ``NOT bool_field``; ``__in`` with another number of
items), raises (overflowing integers compile to an empty result), or fails
``check_related_objects()`` (a model instance of the wrong model). Django then
raises or answers itself.

Entries belong to a thread (compilers hold the thread's connection), at most
:data:`MAX_ENTRIES` of them, and are all dropped whenever a setting changes
(``DATABASES``, ``USE_TZ``...).
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.expressions import Col, RawSQL, Value
from django.db.models.fields import Field
from django.db.models.lookups import Lookup
from django.db.models.sql.datastructures import BaseTable, Join
from django.db.models.sql.where import AND, WhereNode
from django.utils.functional import cached_property

#: Entries kept per thread; the cache is emptied when it is full (shapes are few).
MAX_ENTRIES = 512


class Uncacheable(Exception):
    """The queryset's state cannot be reduced to a signature."""


_SIMPLE = frozenset({str, int, float, bool, type(None), bytes})
_EXPRESSIONS = frozenset({Col, Value, RawSQL})
_cached_names: dict[type, frozenset[str]] = {}


def _cached_properties(cls: type) -> frozenset[str]:
    """Names of ``cls``'s cached properties: derived state, left out of signatures.

    ``output_field`` is a cached property that constructors also set: always signed.
    """
    names = _cached_names.get(cls)
    if names is None:
        names = _cached_names[cls] = frozenset(
            name
            for klass in cls.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, cached_property | functools.cached_property)
            and name != "output_field"
        )
    return names


def _field_sig(field: Field) -> Any:
    if getattr(field, "model", None) is not None:
        return ("bound", field.model, field.name, field.creation_counter)
    _name, path, args, kwargs = field.deconstruct()
    return ("unbound", type(field), path, _sig(args), _sig(kwargs))


def _attributes_sig(obj: Any, also_skip: str = "") -> Any:
    skip = _cached_properties(type(obj))
    signed = []
    for name, value in obj.__dict__.items():
        if name in skip or name == also_skip:
            continue
        kind = type(value)
        if kind in _SIMPLE:
            signed.append((name, kind, value))
        elif not value and (kind is dict or kind is set or kind is list):
            signed.append((name, kind))
        else:
            signed.append((name, _sig(value)))
    return tuple(signed)


def _sig(value: Any) -> Any:
    """A hashable signature of ``value``; raises :class:`Uncacheable`."""
    kind = type(value)
    if kind in _SIMPLE:
        return (kind, value)
    if kind is tuple or kind is list:
        return (kind, tuple([_sig(item) for item in value]))
    if kind is frozenset or kind is set:
        return (kind, frozenset([_sig(item) for item in value]))
    if kind is dict:
        return (kind, tuple([(_sig(k), _sig(v)) for k, v in value.items()]))
    if kind is WhereNode:
        if value.children:
            raise Uncacheable("where")
        return (kind, value.connector, value.negated)
    if kind is BaseTable:
        if value.filtered_relation is not None:
            raise Uncacheable("filtered relation")
        return (kind, value.table_name, value.table_alias)
    if kind is Join:
        if value.filtered_relation is not None:
            raise Uncacheable("filtered relation")
        return (
            kind,
            value.table_name,
            value.parent_alias,
            value.table_alias,
            value.join_type,
            _sig(value.join_field),
            value.nullable,
        )
    if isinstance(value, Field):
        return _field_sig(value)
    if kind in _EXPRESSIONS:
        # Their constructors keep every argument as an attribute (``sql``, ``params``,
        # ``value``, ``alias``, ``target``, ``output_field``): the arguments' copy is redundant.
        return (kind, _attributes_sig(value, "_constructor_args"))
    if isinstance(value, type) and issubclass(value, Model):
        return value
    raise Uncacheable(kind.__qualname__)


def _plain_rhs(value: Any) -> bool:
    """A lookup's right-hand side that is a value, not an expression or a query."""
    if hasattr(value, "resolve_expression") or hasattr(value, "as_sql"):
        return False
    if isinstance(value, list | tuple):
        return all(_plain_rhs(item) for item in value)
    return True


def _where_sig(where: Any) -> tuple[Any, list[Any]]:
    """The shape of the query's WHERE: an AND of lookups on columns, values left out.

    Returns the signature and the lookups, whose SQL a later call compiles again.
    """
    if type(where) is not WhereNode or where.connector != AND or where.negated:
        raise Uncacheable("where")
    if not where.children and where.__dict__.keys() == _FRESH_WHERE:
        return _EMPTY_WHERE, where.children  # the common case, signed once
    skip = _cached_properties(WhereNode)
    attributes = tuple(
        (name, _sig(value))
        for name, value in where.__dict__.items()
        if name != "children" and name not in skip
    )
    shapes = []
    for child in where.children:
        if not isinstance(child, Lookup) or type(child.lhs) is not Col:
            raise Uncacheable("where")
        if not _plain_rhs(child.rhs):
            raise Uncacheable("where")
        skip = _cached_properties(type(child))
        shapes.append(
            (
                type(child),
                tuple(
                    (name, _sig(value))
                    for name, value in child.__dict__.items()
                    # the value (and the constructor's copy of it) are left out
                    if name != "rhs" and name != "_constructor_args" and name not in skip
                ),
            )
        )
    return (WhereNode, attributes, tuple(shapes)), where.children


_FRESH_WHERE = WhereNode().__dict__.keys()
_EMPTY_WHERE = (WhereNode, (("connector", (str, AND)), ("negated", (bool, False))), ())

#: ``purpose`` of :func:`shape_key` for evaluating a queryset (``async for``, ``afirst()``...).
ROWS = ("rows",)


def shape_key(queryset: Any, purpose: Any, alias: str) -> tuple[Any, list[Any]] | None:
    """The cache key of running ``queryset`` for ``purpose`` and its WHERE lookups, or None.

    ``purpose`` is :data:`ROWS`, or ``("get", names)`` for ``get(**kwargs)``
    with these keyword names (sorted).
    """
    if queryset._defer_next_filter:
        return None
    query = queryset.query  # applies a deferred filter, as Django's code does next
    skip = _cached_properties(type(query))
    signed: list[Any] = []
    children: list[Any] = []
    try:
        for name, value in query.__dict__.items():
            if name in skip:
                continue
            kind = type(value)
            if kind in _SIMPLE:
                signed.append((name, kind, value))
            elif not value and (kind is dict or kind is set or kind is list):
                signed.append((name, kind))
            elif name == "where":
                where_sig, children = _where_sig(value)
                signed.append((name, where_sig))
            else:
                signed.append((name, _sig(value)))
        fields_sig = _sig(queryset._fields)
    except Uncacheable:
        return None
    key = (
        purpose,
        type(queryset),
        queryset._sticky_filter,
        queryset._iterable_class,
        fields_sig,
        alias,
        type(query),
        tuple(signed),
    )
    return key, children


@dataclass(frozen=True, slots=True)
class _Slot:
    """How one keyword argument becomes its lookup, as Django built it on the first call."""

    lookup_class: type
    lhs: Any
    final_field: Any
    opts: Any
    sql: str


@dataclass(frozen=True, slots=True)
class Statement:
    """A compiled statement and what a later call needs to reuse it."""

    sql: str
    compiler: Any
    where_sql: tuple[str, ...]  # the SQL of each lookup already in the queryset's WHERE
    slots: tuple[_Slot, ...]  # get(): one per keyword argument
    generation: int

    def mirror_aliases(self, query: Any) -> None:
        """Leave ``query``'s table aliases as compiling it would (Django's compiler sets
        up the base table and the joins on the query it compiles); same shape, same aliases."""
        compiled = self.compiler.query
        query.alias_map = compiled.alias_map.copy()
        query.alias_refcount = compiled.alias_refcount.copy()
        query.table_map = {table: aliases[:] for table, aliases in compiled.table_map.items()}

    def params(self, children: list[Any], values: list[Any] | tuple[()] = ()) -> list[Any] | None:
        """The parameters for these lookups and values, or None: take Django's full path."""
        params: list[Any] = []
        compiler = self.compiler
        try:
            if children:
                for child, fragment in zip(children, self.where_sql, strict=True):
                    sql, child_params = compiler.compile(child)
                    if sql != fragment:
                        return None
                    params.extend(child_params)
            for slot, value in zip(self.slots, values, strict=True):
                lookup_params = _lookup_params(compiler, slot, value)
                if lookup_params is None:
                    return None
                params.extend(lookup_params)
        except Exception:  # Django's full path raises its own error, or answers
            return None
        return params


def _plain(value: Any) -> bool:
    """Values Django's ``build_filter()`` passes to the lookup unchanged."""
    return not (hasattr(value, "resolve_expression") or isinstance(value, list | tuple | Iterator))


def _lookup_params(compiler: Any, slot: _Slot, value: Any) -> list[Any] | None:
    """Mirrors the value-dependent part of ``Query.build_filter()`` and ``build_lookup()``."""
    if not _plain(value):
        return None
    query = compiler.query
    query.check_related_objects(slot.final_field, value, slot.opts)
    lookup = slot.lookup_class(slot.lhs, value)
    if lookup.rhs is None and not lookup.can_use_none_as_rhs:
        return None  # Django builds IS NULL (or raises)
    if (
        lookup.lookup_name == "exact"
        and lookup.rhs == ""
        and connections[DEFAULT_DB_ALIAS].features.interprets_empty_strings_as_nulls
    ):
        return None
    sql, params = compiler.compile(lookup)
    if sql != slot.sql:
        return None
    return list(params)


#: How calls went, by purpose ("get", "rows") and outcome: "hit" (cached statement
#: reused), "compiled" (Django's full path, statement kept), "refused" (a cached
#: shape, but this call's values take the full path), "uncacheable" (full path,
#: the shape does not qualify).
counts: Counter[tuple[str, str]] = Counter()


class _Entries(threading.local):
    def __init__(self) -> None:
        self.statements: dict[Any, Statement | None] = {}


_local = _Entries()
_generation = 0


def clear(**kwargs: Any) -> None:
    """Forget every thread's statements (a ``setting_changed`` receiver too)."""
    global _generation
    _generation += 1
    _local.statements = {}


def find(key: Any) -> Statement | bool | None:
    """The statement of ``key``; None if the shape is known uncacheable; False if unknown."""
    statements = _local.statements
    try:
        statement = statements[key]
    except KeyError:
        return False
    if statement is not None and statement.generation != _generation:
        del statements[key]
        return False
    return statement


def _slot_for(query: Any, name: str, child: Any, value: Any, compiler: Any) -> _Slot | None:
    """The slot of keyword ``name``, if its lookup is one the hit path rebuilds exactly."""
    if not isinstance(child, Lookup) or type(child.lhs) is not Col:
        return None
    if query.alias_map.get(child.lhs.alias).__class__ is not BaseTable:
        return None  # a joined table
    # Django's own path resolution for the name (on a throwaway query).
    probe = query.chain()
    _lookups, parts, reffed_expression = probe.solve_lookup_type(name)
    if reffed_expression:
        return None
    join_info = probe.setup_joins(parts, probe.get_meta(), probe.get_initial_alias())
    sql, params = compiler.compile(child)
    slot = _Slot(type(child), child.lhs, join_info.final_field, join_info.opts, sql)
    try:
        rebuilt = _lookup_params(compiler, slot, value)
    except Exception:
        return None
    if rebuilt != list(params):
        return None
    return slot


def record(
    key: Any,
    children: list[Any],
    kwargs: dict[str, Any],
    query: Any,
    compiler: Any,
    compiled: tuple[str, Any] | None,
) -> str:
    """After Django compiled ``query`` (the queryset's ``children`` lookups, then ``kwargs``'):
    keep the statement if it qualifies. Returns "compiled" if it was kept, else "uncacheable".
    """
    statements = _local.statements
    if len(statements) >= MAX_ENTRIES:
        statements.clear()
    try:
        statement = _statement(children, kwargs, query, compiler, compiled)
    except Exception:  # a shape the checks below cannot even inspect: not cached
        statement = None
    statements[key] = statement
    return "uncacheable" if statement is None else "compiled"


def _statement(
    children: list[Any],
    kwargs: dict[str, Any],
    query: Any,
    compiler: Any,
    compiled: tuple[str, Any] | None,
) -> Statement | None:
    if compiled is None:
        return None
    sql, params = compiled
    where = query.where
    names = sorted(kwargs)
    count = len(children)
    if (
        where.connector != AND
        or where.negated
        or len(where.children) != count + len(names)
        or query.combinator
    ):
        return None
    where_sql = []
    lookup_params: list[Any] = []
    for own, child in zip(children, where.children[:count], strict=True):
        fragment, child_params = compiler.compile(child)
        if compiler.compile(own) != (fragment, child_params):
            return None
        where_sql.append(fragment)
        lookup_params.extend(child_params)
    slots = []
    for name, child in zip(names, where.children[count:], strict=True):
        slot = _slot_for(query, name, child, kwargs[name], compiler)
        if slot is None:
            return None
        slots.append(slot)
        lookup_params.extend(compiler.compile(child)[1])
    if list(params) != lookup_params:
        return None  # other parameters in the statement: not reusable by this scheme
    compiler.get_converters = _Converters(compiler.get_converters)
    # A private copy: the compiled query may be the caller's, which Django may change
    # later; the hit path compiles lookups with it (only its aliases are used).
    compiler.query = query.clone()
    return Statement(sql, compiler, tuple(where_sql), tuple(slots), _generation)


class _Converters:
    """A kept compiler's ``get_converters()``: Django's, computed once per list of expressions.

    Converters depend only on the expressions (the compiler's fixed ``select``)
    and the connection; ``apply_converters()`` only reads the mapping.
    """

    __slots__ = ("_get", "_known")

    def __init__(self, get: Any) -> None:
        self._get = get
        self._known: list[tuple[list[Any], Any]] = []

    def __call__(self, expressions: Any) -> Any:
        for known, converters in self._known:
            if len(known) == len(expressions) and all(
                a is b for a, b in zip(known, expressions, strict=True)
            ):
                return converters
        converters = self._get(expressions)
        if len(self._known) < 8:
            self._known.append((list(expressions), converters))
        return converters


setting_changed.connect(clear, dispatch_uid="asyncorm_native.statements")
