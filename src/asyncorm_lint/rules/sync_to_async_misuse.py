"""DJA6xx: ``sync_to_async`` used so that the ORM work still runs on the event loop."""

from __future__ import annotations

import libcst as cst

from ..django_api import MODEL_METHODS, QUERYSET_BUILDERS, QUERYSET_METHODS
from ..expressions import describe, dotted_name
from ..values import V
from .base import Rule, RuleDoc, register

SYNC_CALLS = {f.name for f in [*QUERYSET_METHODS, *MODEL_METHODS]} | QUERYSET_BUILDERS
EVALUATING_BUILTINS = {"list", "tuple", "set", "sorted", "len", "bool"}


@register
class SyncToAsyncMisuse(Rule):
    """The wrapper only helps when it receives a callable that does the work."""

    codes = {
        # Reported where the lazy queryset is evaluated (see queryset_evaluation).
        "DJA601": "{what} came back lazy from {wrapper} and is evaluated in async function "
        '"{func}": evaluate it inside the wrapped function, e.g. '
        '"await sync_to_async(lambda: list(...))()", or use "async for"',
        "DJA602": "{wrapper}() receives {what}, which already ran on the event loop in async "
        'function "{func}": pass a callable, "{fix}"',
    }
    docs = {
        "DJA601": RuleDoc(
            "Lazy QuerySet returned from sync_to_async, evaluated on the loop",
            "sync_to_async(Model.objects.filter)(...) runs only the lazy filter() in the "
            "thread; the query runs later, where the queryset is evaluated: on the event loop.",
            "books = await sync_to_async(Book.objects.filter)(author=a)\nfor b in books: ...",
            "books = await sync_to_async(lambda: list(Book.objects.filter(author=a)))()\n"
            "for b in books: ...",
            manual="choose where the queryset should be evaluated",
        ),
        "DJA602": RuleDoc(
            "sync_to_async given a value instead of a callable",
            "sync_to_async(Model.objects.get(pk=1)) or sync_to_async(obj.author) evaluates the "
            "query before the wrapper is even called, on the event loop.",
            "book = await sync_to_async(Book.objects.get(pk=pk))()",
            "book = await sync_to_async(Book.objects.get)(pk=pk)",
            manual="the arguments move from the inner call to the wrapper's call",
        ),
    }

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.is_wrapper(node.func) or not node.args:
            return
        arg = node.args[0].value
        wrapper = dotted_name(node.func) or "sync_to_async"
        if isinstance(arg, cst.Call) and self._runs_query(arg):
            fix = (
                f"{wrapper}({describe(arg.func)})(...)"
                if arg.args
                else f"{wrapper}({describe(arg.func)})()"
            )
            self.error(
                "DJA602", arg, None, wrapper=wrapper, what=f"the result of {describe(arg)}", fix=fix
            )
        elif isinstance(arg, cst.Attribute) and self._lazy_attribute(arg):
            self.error(
                "DJA602",
                arg,
                None,
                wrapper=wrapper,
                what=describe(arg),
                fix=f"{wrapper}(lambda: {describe(arg)})()",
            )

    def _runs_query(self, call: cst.Call) -> bool:
        func = call.func
        if isinstance(func, cst.Name) and func.value in EVALUATING_BUILTINS and call.args:
            value = self.ctx.infer(call.args[0].value)
            return value is not None and value.kind is V.QUERYSET
        if not isinstance(func, cst.Attribute) or func.attr.value not in SYNC_CALLS:
            return False
        receiver = self.ctx.infer(func.value)
        if receiver is None:
            return False
        if receiver.is_queryset_like:
            return True
        return receiver.kind is V.INSTANCE and func.attr.value in {f.name for f in MODEL_METHODS}

    def _lazy_attribute(self, node: cst.Attribute) -> bool:
        owner = self.ctx.infer(node.value)
        if owner is None:
            return False
        if owner.kind is V.REQUEST and node.attr.value == "user":
            return True
        if owner.kind in (V.INSTANCE, V.LAZY_USER):
            relation = self.ctx.index.relation(owner.model, node.attr.value)
            return (
                relation is not None
                and relation.kind != "many"
                and not owner.is_loaded(node.attr.value)
            )
        return False
