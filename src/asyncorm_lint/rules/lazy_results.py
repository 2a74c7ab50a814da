"""DJA603: a lazy QuerySet leaves the worker thread unevaluated.

A function run by ``sync_to_async``/``database_sync_to_async`` (decorated, or handed
to the wrapper in the same module) that returns ``Model.objects.filter(...)`` gives
its caller a lazy queryset: the query runs where it is evaluated, on the event loop.
The same holds for an async function returning what ``sync_to_async(qs_method)``
gave back.
"""

from __future__ import annotations

import libcst as cst

from ..expressions import describe
from ..values import V
from .base import Rule, RuleDoc, register
from .queryset_evaluation import CACHE_FILLING


@register
class LazyResults(Rule):
    """Report where the escaping queryset is built (or returned, when built inline)."""

    sync_frames = False
    thread_frames = True
    codes = {
        "DJA603": "{what} leaves {where} unevaluated: its query runs later, where it is "
        'evaluated, on the event loop; return "{fix}"',
    }
    docs = {
        "DJA603": RuleDoc(
            "Lazy QuerySet returned out of sync_to_async",
            "A function run by sync_to_async or database_sync_to_async that returns "
            "Model.objects.filter(...) hands back a lazy queryset: nothing was queried in the "
            "thread, and the caller's first evaluation (a for loop, list(), len(), a "
            "serializer, a template) runs the query on the event loop. Channels' "
            "documentation gives the same advice: return evaluated results. Reported where "
            "the queryset is built, in functions decorated with a wrapper or handed to one in "
            "the same module, and where an async function returns what "
            "sync_to_async(Model.objects.filter) gave back.",
            "@database_sync_to_async\ndef get_orders(user):\n"
            "    return Order.objects.filter(user=user)",
            "@database_sync_to_async\ndef get_orders(user):\n"
            "    return list(Order.objects.filter(user=user))",
            manual="list(...) loads every row; the caller may prefer async for over the queryset",
        ),
    }

    def __init__(self, ctx: object) -> None:
        super().__init__(ctx)  # type: ignore[arg-type]
        # Per function: the statement that bound a name to a lazy queryset, and the names
        # evaluated since (their result cache is filled: returning them is fine).
        self.built: dict[tuple[int, str], cst.CSTNode] = {}
        self.evaluated: set[tuple[int, str]] = set()

    def _key(self, name: str) -> tuple[int, str]:
        # The function's node, not its Frame: a finished Frame's id may be reused by the next.
        return (id(self.ctx.frame.node), name)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.frame.is_async or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Name):
            key = self._key(target.value)
            self.evaluated.discard(key)
            value = self.ctx.infer(node.value)
            if value is not None and value.kind is V.QUERYSET and not value.wrapped_by:
                self.built[key] = node.value
            else:
                self.built.pop(key, None)

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.iter, cst.Name):
            self.evaluated.add(self._key(node.iter.value))

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if isinstance(test, cst.UnaryOperation):
            test = test.expression
        if isinstance(test, cst.Name):
            self.evaluated.add(self._key(test.value))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in CACHE_FILLING:
            for arg in node.args:
                if isinstance(arg.value, cst.Name):
                    self.evaluated.add(self._key(arg.value.value))

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None:
            return
        value = node.value
        parts = (
            [e.value for e in value.elements]
            if isinstance(value, cst.Tuple | cst.List)
            else [value]
        )
        for part in parts:
            if self.ctx.frame.is_async:
                self._async_return(part)
            else:
                self._thread_return(part)

    def _thread_return(self, part: cst.BaseExpression) -> None:
        where = f'"{self.ctx.frame.label}" (run by a sync_to_async wrapper)'
        if isinstance(part, cst.Name):
            key = self._key(part.value)
            built = self.built.get(key)
            if built is not None and key not in self.evaluated:
                self._report(built, describe(built), where)
            return
        value = self.ctx.infer(part)
        if value is not None and value.kind is V.QUERYSET and not value.wrapped_by:
            self._report(part, describe(part), where)

    def _async_return(self, part: cst.BaseExpression) -> None:
        value = self.ctx.infer(part)
        if value is None or value.kind is not V.QUERYSET or not value.wrapped_by:
            return
        if isinstance(part, cst.Name) and self._key(part.value) in self.evaluated:
            return
        where = f'async function "{self.ctx.frame.label}"'
        self._report(part, f"the QuerySet from {value.wrapped_by}", where)

    def _report(self, node: cst.CSTNode, what: str, where: str) -> None:
        self.error("DJA603", node, anywhere=True, what=what, where=where, fix="list(...)")
