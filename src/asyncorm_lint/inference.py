"""Infer what an expression is (manager, lazy queryset, model instance, request...) without
running Django: from imports, the model index and the assignments read so far."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .django_api import (
    INSTANCE_PAIR_RETURNING,
    INSTANCE_RETURNING,
    QUERYSET_BUILDERS,
    VALUES_BUILDERS,
)
from .expressions import dotted_name, is_capitalized, last_name
from .index import looks_like_model_ref
from .scope import MISSING
from .summary import USER_MODEL, CallSite
from .values import ALL, V, Value

if TYPE_CHECKING:
    from .walker import ModuleContext

REQUEST_TYPES = ("HttpRequest", "ASGIRequest", "WSGIRequest")
CREATING = frozenset({"create", "acreate"})
SHORTCUT_INSTANCE = frozenset({"get_object_or_404", "aget_object_or_404"})
AUTHENTICATE = frozenset({"django.contrib.auth.authenticate", "django.contrib.auth.aauthenticate"})


class Inferrer:
    """Answers ``infer(expr)`` for the walker's current frame."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx

    # --- entry point ----------------------------------------------------------------------
    def infer(self, node: cst.BaseExpression | None) -> Value | None:
        if node is None:
            return None
        method = getattr(self, "_" + type(node).__name__, None)
        return method(node) if method is not None else None

    # --- names ----------------------------------------------------------------------------
    def _Name(self, node: cst.Name) -> Value | None:
        found = self.ctx.frame.lookup(node.value)
        if found is not MISSING:
            return found  # type: ignore[return-value]
        return self.global_name(node.value)

    def global_name(self, name: str) -> Value | None:
        ctx = self.ctx
        summary = ctx.summary
        if name in summary.classes:
            key = summary.classes[name].qualname
            kind = ctx.index.kind(key)
            if kind == "model":
                return Value(V.MODEL_CLASS, key)
            if kind == "modelform":
                return Value(V.MODEL_FORM_CLASS, key)
            if any(b.endswith("ModelSerializer") for b in summary.classes[name].bases):
                return Value(V.SERIALIZER_CLASS, key)
            return None
        alias = summary.aliases.get(name)
        if alias is not None:
            key = ctx.index.model_for_ref(alias)
            return Value(V.MODEL_CLASS, key or alias) if key or alias == USER_MODEL else None
        qualified = ctx.imports.source_of(name)
        if qualified is not None:
            key = ctx.index.resolve(qualified)
            kind = ctx.index.kind(key)
            if kind == "model":
                return Value(V.MODEL_CLASS, key)
            if kind == "modelform":
                return Value(V.MODEL_FORM_CLASS, key)
            if key is None and looks_like_model_ref(qualified):
                return Value(V.MODEL_CLASS, qualified)
            if qualified in ("django.db.connection", "django.db.connections"):
                return Value(V.CONNECTION)
            if name[:1].isupper() and is_serializer_ref(qualified):
                return Value(V.SERIALIZER_CLASS, qualified)
            if name[:1].islower():
                return Value(V.CALLABLE, qualified)
            return None
        if name in ctx.evidence:
            return Value(V.MODEL_CLASS, name)
        if name in summary.toplevel_functions:
            return Value(V.CALLABLE, f"{summary.module}.{name}" if summary.module else name)
        if name in summary.callables:
            return Value(V.CALLABLE, summary.callables[name])
        return None

    # --- attributes -----------------------------------------------------------------------
    def _Attribute(self, node: cst.Attribute) -> Value | None:
        attr = node.attr.value
        owner = node.value
        dotted = dotted_name(node)
        if dotted is not None:
            found = self.ctx.frame.lookup(dotted)
            if found is not MISSING:
                return found  # type: ignore[return-value]
        if dotted is not None:
            head = dotted.split(".", 1)[0]
            if self.ctx.imports.source_of(head) and self.ctx.frame.lookup(head) is MISSING:
                module_attribute = self._module_attribute(dotted)
                if module_attribute is not None:
                    return module_attribute
        if isinstance(owner, cst.Name) and owner.value in ("self", "cls"):
            frame_cls = self.ctx.frame.cls
            if frame_cls is not None and attr in frame_cls.attrs:
                return frame_cls.attrs[attr]
            if attr == "request":
                drf = frame_cls is not None and frame_cls.is_drf_view
                return None if drf or not self.ctx.django_requests else Value(V.REQUEST)
            if attr == "scope":
                return Value(V.SCOPE)
        base = self.infer(owner)
        if base is None:
            return self._unknown_owner_attribute(owner, attr)
        return self.attribute_of(base, attr)

    def _module_attribute(self, dotted: str | None) -> Value | None:
        """``m.Article`` where ``m`` is an imported module: the model it names."""
        qualified = self.ctx.imports.qualify(dotted)
        if qualified is None:
            return None
        key = self.ctx.index.resolve(qualified)
        kind = self.ctx.index.kind(key)
        if kind == "model":
            return Value(V.MODEL_CLASS, key)
        if kind == "modelform":
            return Value(V.MODEL_FORM_CLASS, key)
        return None

    def _unknown_owner_attribute(self, owner: cst.BaseExpression, attr: str) -> Value | None:
        if attr == "objects" and isinstance(owner, cst.Name | cst.Attribute):
            name = last_name(owner)
            if is_capitalized(name) or name == "model":
                return Value(V.MANAGER, dotted_name(owner))
        if attr == "request" and isinstance(owner, cst.Attribute) and owner.attr.value == "context":
            return Value(V.REQUEST)  # GraphQL resolvers: info.context.request
        return default_reverse_manager(attr)

    def attribute_of(self, base: Value, attr: str) -> Value | None:
        index = self.ctx.index
        kind = base.kind
        if kind is V.MODEL_CLASS:
            managers = index.managers(base.model) if base.model else {}
            if attr in managers or attr == "objects" or attr in self.ctx.options.managers:
                return Value(V.MANAGER, base.model, manager_attr=attr)
            return None
        if kind is V.REQUEST:
            if attr == "user":
                return Value(V.LAZY_USER, index.user_model)
            if attr == "session":
                return Value(V.SESSION)
            return None
        if kind in (V.INSTANCE, V.LAZY_USER):
            relation = index.relation(base.model, attr)
            if relation is None:
                return None if index.is_model(base.model) else default_reverse_manager(attr)
            if relation.kind == "many":
                value = base.related_value(attr, V.RELATED_MANAGER, relation.target)
                return value.but(
                    prefetched=value.prefetched | ({""} if base.is_loaded(attr) else set())
                )
            return base.related_value(attr, V.INSTANCE, relation.target)
        return None

    # --- calls ----------------------------------------------------------------------------
    def _Call(self, node: cst.Call) -> Value | None:
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = self.infer(func.value)
            if receiver is not None and receiver.kind is not V.CALLABLE:
                return self.method_result(receiver, func.attr.value, node)
        if isinstance(func, cst.Call) and self.ctx.is_wrapper(func.func) and func.args:
            return self.wrapped_result(func.args[0].value)
        known = self._known_function_result(node)
        if known is not None:
            return known
        callee = self.infer(func)
        if callee is None:
            return None
        if callee.kind is V.MODEL_CLASS:
            return Value(V.INSTANCE, callee.model, fresh=True)
        if callee.kind is V.MODEL_FORM_CLASS:
            return Value(V.MODEL_FORM, callee.model)
        if callee.kind is V.SERIALIZER_CLASS or (
            callee.kind is V.CALLABLE and is_serializer_ref(callee.model or "", named=False)
        ):
            positional = node.args[0].value if node.args and not node.args[0].keyword else None
            first = self.infer(positional) if positional is not None else None
            if first is not None and first.kind is V.QUERYSET:
                return Value(V.QUERYSET_SERIALIZER, first.model)
            if callee.kind is V.SERIALIZER_CLASS:
                return Value(V.SERIALIZER, callee.model)
            return None
        if callee.kind is V.CALLABLE and callee.model:
            return self.ctx.returned_by(callee.model)
        return None

    def _known_function_result(self, node: cst.Call) -> Value | None:
        """Results of Django functions the analysis knows by name."""
        qualified = self.ctx.qualify(node.func) or ""
        name = qualified.rpartition(".")[2] or (last_name(node.func) or "")
        first = self.infer(node.args[0].value) if node.args else None
        if name in SHORTCUT_INSTANCE:
            if first is not None and first.kind in (V.MODEL_CLASS, V.MANAGER, V.QUERYSET):
                return Value(
                    V.INSTANCE,
                    first.model,
                    select_related=first.select_related,
                    prefetched=first.prefetched,
                    only=first.only,
                    deferred=first.deferred,
                )
        elif qualified in AUTHENTICATE:
            return Value(V.INSTANCE, self.ctx.index.user_model)
        elif name == "get_user_model":
            return Value(V.MODEL_CLASS, self.ctx.index.user_model)
        elif name == "get_model" and len(node.args) >= 2:
            app, model = (node.args[0].value, node.args[1].value)
            if isinstance(app, cst.SimpleString) and isinstance(model, cst.SimpleString):
                ref = f"{app.evaluated_value}.{model.evaluated_value}"
                return Value(V.MODEL_CLASS, self.ctx.index.model_for_ref(ref) or ref)
        elif name == "partial":
            return first if first is not None and first.kind is V.CALLABLE else None
        elif name == "getattr" and first is not None and len(node.args) >= 2:
            attr = node.args[1].value
            if isinstance(attr, cst.SimpleString) and isinstance(attr.evaluated_value, str):
                return self.attribute_of(first, attr.evaluated_value)
        elif name == "Paginator" and first is not None and first.kind is V.QUERYSET:
            return Value(V.PAGINATOR, first.model)
        return None

    def method_result(self, receiver: Value, method: str, node: cst.Call | None) -> Value | None:
        kind = receiver.kind
        if kind is V.REQUEST and method == "auser":
            return Value(V.INSTANCE, self.ctx.index.user_model)
        if not receiver.is_queryset_like:
            return None
        model = receiver.model
        if method in QUERYSET_BUILDERS or method in self._custom_builders(receiver):
            return self._built_queryset(receiver, method, node)
        if method in ("iterator", "aiterator"):
            return Value(
                V.QUERYSET,
                model,
                rows_are_instances=receiver.rows_are_instances,
                select_related=receiver.select_related,
                prefetched=receiver.prefetched,
            )
        if not receiver.rows_are_instances:
            return None
        fetched = dict(
            select_related=receiver.select_related,
            prefetched=receiver.prefetched,
            only=receiver.only,
            deferred=receiver.deferred,
        )
        if method in INSTANCE_RETURNING:
            if method in CREATING:
                return Value(V.INSTANCE, model, fresh=True)
            return Value(V.INSTANCE, model, **fetched)  # type: ignore[arg-type]
        if method in INSTANCE_PAIR_RETURNING:
            return Value(V.TUPLE, items=(Value(V.INSTANCE, model, **fetched), None))  # type: ignore[arg-type]
        return None

    def _custom_builders(self, receiver: Value) -> set[str]:
        if (
            receiver.kind is V.MANAGER
            and receiver.model
            and self.ctx.index.is_model(receiver.model)
        ):
            return self.ctx.index.builder_methods(receiver.model, receiver.manager_attr)
        return set()

    def _built_queryset(self, receiver: Value, method: str, node: cst.Call | None) -> Value:
        base = receiver.but(kind=V.QUERYSET, wrapped_by=None, by_name=False)
        if receiver.kind is V.MANAGER or (receiver.kind is V.RELATED_MANAGER and method != "all"):
            base = base.but(prefetched=frozenset())
        if method in VALUES_BUILDERS:
            return base.but(rows_are_instances=False)
        names = _string_args(node) if node is not None else []
        if method == "select_related":
            if node is not None and not node.args:
                return base.but(select_related=ALL)
            if base.select_related is ALL:
                return base
            return base.but(select_related=frozenset(base.select_related or ()) | _paths(names))
        if method == "prefetch_related":
            return base.but(prefetched=base.prefetched | _paths(names))
        if method == "only":
            return base.but(only=frozenset(n.split("__")[0] for n in names))
        if method == "defer":
            return base.but(deferred=base.deferred | frozenset(n.split("__")[0] for n in names))
        return base

    def wrapped_result(self, callable_node: cst.BaseExpression) -> Value | None:
        """What ``await sync_to_async(callable_node)(...)`` gives back."""
        if isinstance(callable_node, cst.Attribute):
            receiver = self.infer(callable_node.value)
            if receiver is not None:
                result = self.method_result(receiver, callable_node.attr.value, None)
                if result is not None and result.kind is V.QUERYSET:
                    wrapper = f"sync_to_async({dotted_name(callable_node) or '...'})"
                    return result.but(wrapped_by=wrapper)
                return result
        if isinstance(callable_node, cst.Lambda):
            result = self.infer(callable_node.body)
            if result is not None and result.kind is V.QUERYSET:
                return result.but(wrapped_by="sync_to_async(lambda: ...)")
            return result
        if isinstance(callable_node, cst.Name | cst.Attribute):
            function = self.infer(callable_node)
            if function is not None and function.kind is V.CALLABLE and function.model:
                return self.ctx.returned_by(function.model)
        if isinstance(callable_node, cst.Call):  # misuse (DJA602), but the value flows on
            return self.infer(callable_node)
        return None

    # --- call graph sites -------------------------------------------------------------------
    def call_site(self, func: cst.BaseExpression) -> CallSite | None:
        """What a call of ``func`` reaches, as a site the call graph can resolve."""
        if isinstance(func, cst.Attribute):
            owner = func.value
            name = func.attr.value
            if isinstance(owner, cst.Name) and owner.value in ("self", "cls"):
                frame_cls = self.ctx.frame.cls
                if frame_cls is not None and name not in frame_cls.attrs:
                    return CallSite("method", frame_cls.key, name)
            value = self.infer(owner)
            if value is not None:
                return self._site_on(value, name)
            dotted = dotted_name(func)
            qualified = self.ctx.imports.qualify(dotted) if dotted else None
            return CallSite("function", qualified) if qualified else None
        value = self.infer(func)
        if value is not None and value.kind is V.CALLABLE and value.model:
            return CallSite("function", value.model)
        if value is not None and value.kind is V.MODEL_CLASS and value.model:
            return CallSite("method", value.model, "__init__")
        return None

    def _site_on(self, value: Value, name: str) -> CallSite | None:
        if value.model is None:
            return None
        if value.kind in (V.INSTANCE, V.LAZY_USER, V.MODEL_CLASS):
            return CallSite("method", value.model, name)
        if value.kind in (V.MANAGER, V.QUERYSET):
            return CallSite("manager", value.model, name, value.manager_attr)
        return None

    def attribute_site(self, node: cst.Attribute) -> CallSite | None:
        """A read of ``obj.attr`` that may run a model property."""
        value = self.infer(node.value)
        if value is None or value.kind not in (V.INSTANCE, V.LAZY_USER) or value.model is None:
            return None
        return CallSite("attribute", value.model, node.attr.value)

    # --- other expressions ------------------------------------------------------------------
    def _Await(self, node: cst.Await) -> Value | None:
        inner = node.expression
        if not isinstance(inner, cst.Call):
            return None
        func = inner.func
        if isinstance(func, cst.Call) and self.ctx.is_wrapper(func.func) and func.args:
            return self.wrapped_result(func.args[0].value)
        return self._Call(inner)

    def _Subscript(self, node: cst.Subscript) -> Value | None:
        base = self.infer(node.value)
        if base is None:
            return None
        if base.kind is V.TUPLE and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer):
                position = int(index.value.value)
                return base.items[position] if position < len(base.items) else None
            return None
        if base.kind is V.SCOPE and len(node.slice) == 1:
            key = node.slice[0].slice
            if isinstance(key, cst.Index) and isinstance(key.value, cst.SimpleString):
                return Value(V.SESSION) if key.value.evaluated_value == "session" else None
            return None
        if base.kind is V.QUERYSET and len(node.slice) == 1:
            part = node.slice[0].slice
            if isinstance(part, cst.Slice):
                return base if part.step is None else None
            return base.but(kind=V.INSTANCE, wrapped_by=None) if base.rows_are_instances else None
        return None

    def _IfExp(self, node: cst.IfExp) -> Value | None:
        """``a if cond else b``: known only when both branches are the same kind of value."""
        body = self.infer(node.body)
        if body is None:
            return None
        orelse = self.infer(node.orelse)
        if orelse is None or orelse.kind is not body.kind:
            return None
        return body if orelse.model == body.model else body.but(model=None)

    def _NamedExpr(self, node: cst.NamedExpr) -> Value | None:
        return self.infer(node.value)

    def _Dict(self, node: cst.Dict) -> Value | None:
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                value = self.infer(element.value)
                if value is not None and value.kind is V.QUERYSET:
                    return Value(V.CONTEXT)
        return None

    def annotation(self, node: cst.Annotation | None) -> Value | None:
        """A parameter annotation: ``Article`` -> instance, ``QuerySet[Article]`` -> queryset."""
        if node is None:
            return None
        expr = node.annotation
        if isinstance(expr, cst.SimpleString):
            return None
        if isinstance(expr, cst.Subscript):
            outer = last_name(expr.value)
            if outer in ("QuerySet", "Manager") and len(expr.slice) >= 1:
                inner = expr.slice[0].slice
                if isinstance(inner, cst.Index):
                    model = self.infer(inner.value)
                    if model is not None and model.kind is V.MODEL_CLASS:
                        return Value(V.QUERYSET, model.model)
            return None
        name = last_name(expr)
        if name in REQUEST_TYPES:
            return Value(V.REQUEST)
        if name == "QuerySet":
            return Value(V.QUERYSET)
        value = self.infer(expr)
        if value is not None and value.kind is V.MODEL_CLASS:
            return Value(V.INSTANCE, value.model)
        return None


def default_reverse_manager(attr: str) -> Value | None:
    """``obj.comment_set``: Django's default name for a reverse foreign key's manager
    (``<model>_set``), on an object whose model the analysis does not know. What reaches
    the database is a manager method called on it (``.all()`` iterated, ``.count()``...)."""
    if attr.endswith("_set") and len(attr) > 4 and attr[:-4].isidentifier():
        return Value(V.RELATED_MANAGER, None, by_name=True)
    return None


#: Methods a Python set, dict or list also has, whatever their arguments.
CONTAINER_METHODS = frozenset({"add", "remove", "clear", "update", "pop", "copy", "discard", "set"})


def maybe_container_call(receiver: Value, method: str, node: cst.Call) -> bool:
    """True when ``receiver`` is known only by its ``*_set`` name and the call may as well
    be a Python container's: ``seen_set.add(x)``, ``ids_set.count(x)``, ``cache_set.get(k)``."""
    if not receiver.by_name:
        return False
    if method in CONTAINER_METHODS:
        return True
    positional = any(arg.keyword is None for arg in node.args)
    return (method == "count" and bool(node.args)) or (method == "get" and positional)


def _string_args(node: cst.Call) -> list[str]:
    out = []
    for arg in node.args:
        if isinstance(arg.value, cst.SimpleString) and isinstance(arg.value.evaluated_value, str):
            out.append(arg.value.evaluated_value)
        elif isinstance(arg.value, cst.Call) and last_name(arg.value.func) == "Prefetch":
            inner = arg.value.args
            if inner and isinstance(inner[0].value, cst.SimpleString):
                text = inner[0].value.evaluated_value
                if isinstance(text, str):
                    out.append(text)
    return out


def _paths(names: list[str]) -> frozenset[str]:
    """``["author__profile"]`` -> {"author", "author__profile"}: every prefix is loaded too."""
    out: set[str] = set()
    for name in names:
        parts = name.split("__")
        out.update("__".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(out)


def is_serializer_ref(qualified: str, named: bool = True) -> bool:
    """A DRF-style serializer defined in the project: ``app.serializers.OrderSerializer``.

    Imported from a ``serializers`` module of the project (not DRF's or adrf's own), and,
    with ``named``, called ``...Serializer``.
    """
    module, _, name = qualified.rpartition(".")
    parts = module.split(".")
    if parts[0] in ("rest_framework", "adrf") or "serializers" not in parts:
        return False
    return name.endswith("Serializer") or not named
