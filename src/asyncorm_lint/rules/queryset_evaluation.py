"""DJA2xx: a lazy QuerySet evaluated by sync Python protocols (iteration, len, bool, [i], in).

Building a queryset is free; only the expression that evaluates it is reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from ..expressions import describe, last_name
from ..fixes import AsyncFor, AsyncListComp
from ..values import V, Value
from .base import Rule, RuleDoc, register

if TYPE_CHECKING:
    from ..walker import ModuleContext

MATERIALIZERS = {
    "list",
    "tuple",
    "set",
    "frozenset",
    "sorted",
    "dict",
    "enumerate",
    "reversed",
    "iter",
    "zip",
    "map",
    "filter",
    "sum",
    "min",
    "max",
    "any",
    "all",
}
REPRS = {"repr", "str", "print", "ascii"}  # a query of their own: the result cache stays empty
CACHE_FILLING = MATERIALIZERS | {"len", "bool"}  # these fill the queryset's result cache
CONSUMERS = {
    # name: (positional index of the evaluated argument, keyword)
    "render": (2, "context"),
    "render_to_string": (1, "context"),
    "serialize": (1, "queryset"),
}
CONSUMER_MODULES = (
    "django.shortcuts",
    "django.template.loader",
    "django.core.serializers",
    "django.core",
)


@register
class QuerysetEvaluation(Rule):
    """Evaluating a QuerySet with sync protocols runs its query on the event loop."""

    codes = {
        "DJA201": 'iterating {what} in async function "{func}": use "{fix}"',
        "DJA202": '{call}({what}) in async function "{func}" evaluates the queryset: use "{fix}"',
        "DJA203": 'len({what}) in async function "{func}": use "{fix}" (len() fetches every row)',
        "DJA204": 'truth test of {what} in async function "{func}": use "{fix}"',
        "DJA205": 'indexing {what} in async function "{func}" runs a query: use "{fix}"',
        "DJA206": '"in {what}" in async function "{func}": use "{fix}"',
        "DJA207": 'unpacking {what} in async function "{func}": use "{fix}"',
        "DJA208": '{call}() evaluates {what} in async function "{func}": pass "{fix}" instead',
        "DJA209": '{call} of {what} in async function "{func}" evaluates it: use "{fix}"',
    }
    docs = {
        "DJA201": RuleDoc(
            "Sync iteration over a QuerySet",
            "for loops and comprehensions call QuerySet.__iter__, which fetches every row "
            "synchronously. QuerySets support async for (Django 4.1+).",
            "for article in Article.objects.filter(published=True): ...",
            "async for article in Article.objects.filter(published=True): ...",
            autofix=True,
        ),
        "DJA202": RuleDoc(
            "list()/tuple()/sorted()/dict()... of a QuerySet",
            "Materializing builtins iterate the queryset synchronously.",
            "rows = list(qs)",
            "rows = [row async for row in qs]",
            autofix=True,
        ),
        "DJA203": RuleDoc(
            "len() of a QuerySet",
            "len() fetches and caches every row. acount() runs SELECT COUNT(*) instead, which "
            "is not the same thing (no cache), so it is not rewritten automatically.",
            "n = len(qs)",
            "n = await qs.acount()",
            manual="len() fetches and caches the rows; acount() runs COUNT(*) and caches nothing",
        ),
        "DJA204": RuleDoc(
            "Truth test of a QuerySet",
            "if qs:, bool(qs), not qs and while qs fetch every row. aexists() runs a LIMIT 1 "
            "query and does not fill the cache, so the rewrite is left to you.",
            "if qs: ...",
            "if await qs.aexists(): ...",
            manual="a truth test fills the result cache; aexists() does not",
        ),
        "DJA205": RuleDoc(
            "Indexing a QuerySet or a stepped slice",
            "qs[0] runs a query; a stepped slice evaluates the queryset. afirst() orders by pk "
            "when the queryset is unordered, so it is not an automatic rewrite. Plain slices "
            "(qs[10:20]) stay lazy and are not reported.",
            "top = qs[0]",
            "top = await qs.afirst()",
            manual="afirst() orders by pk when the queryset is unordered; qs[0] does not",
        ),
        "DJA206": RuleDoc(
            "Membership test on a QuerySet",
            "x in qs evaluates the whole queryset; acontains() (Django 4.1+) asks the database.",
            "if article in qs: ...",
            "if await qs.acontains(article): ...",
            manual="acontains() asks the database; `in` evaluates and caches the queryset",
        ),
        "DJA207": RuleDoc(
            "Unpacking a QuerySet",
            "Tuple unpacking and star-expansion iterate the queryset synchronously.",
            "first, second = Article.objects.all()[:2]",
            "first, second = [a async for a in Article.objects.all()[:2]]",
            manual="unpacking needs the rows in a list first: choose where to materialize them",
        ),
        "DJA208": RuleDoc(
            "Lazy QuerySet handed to a sync consumer",
            "render() and render_to_string() render the template on the event loop, where "
            "iterating the queryset raises; serializers.serialize() iterates it too. "
            "TemplateResponse is rendered by Django in a thread and is not reported.",
            'return render(request, "list.html", {"articles": Article.objects.all()})',
            "articles = [a async for a in Article.objects.all()]\n"
            'return render(request, "list.html", {"articles": articles})',
            manual="the template needs the rows: build a list before rendering",
        ),
        "DJA209": RuleDoc(
            "repr()/str()/print()/f-string of a QuerySet",
            "QuerySet.__repr__ fetches the first rows.",
            "print(qs)",
            "print([a async for a in qs[:20]])",
            manual="choose what to print: a slice of the rows, or the query",
        ),
    }

    def __init__(self, ctx: ModuleContext) -> None:
        super().__init__(ctx)
        self.truth_tested: set[int] = set()  # ids of the and/or operations read for DJA204

    # --- helpers -------------------------------------------------------------------------------
    def lazy(self, node: cst.BaseExpression) -> Value | None:
        value = self.ctx.infer(node)
        if value is None or value.kind is not V.QUERYSET or "" in value.prefetched:
            return None
        return value

    def evaluated(
        self,
        code: str,
        node: cst.CSTNode,
        qs_node: cst.BaseExpression,
        value: Value,
        rewrite: object = None,
        **fields: str,
    ) -> None:
        if value.wrapped_by:
            self.error("DJA601", node, None, what=describe(qs_node), wrapper=value.wrapped_by)
            return
        self.error(code, node, rewrite, **fields)

    def comprehension(self, qs: str) -> str:
        return f"[x async for x in {qs}]"

    # --- iteration --------------------------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is None:
            self._loop(node, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is None:
            self._loop(node, node.iter)

    def _loop(self, node: cst.For | cst.CompFor, iterable: cst.BaseExpression) -> None:
        value = self.lazy(iterable)
        if value is None:
            return
        target = describe(node.target)
        if isinstance(iterable, cst.Call) and last_name(iterable.func) == "iterator":
            assert isinstance(iterable.func, cst.Attribute)
            qs = describe(iterable.func.value)
            fix = f"async for {target} in {qs}.aiterator()"
        else:
            qs = describe(iterable)
            fix = f"async for {target} in {qs}"
        self.evaluated("DJA201", node.iter, iterable, value, AsyncFor(node), what=qs, fix=fix)

    # --- builtins ------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and self.ctx.imports.source_of(func.value) is None:
            name = func.value
            if name in CACHE_FILLING or name in REPRS:
                self._builtin(node, name)
                return
        self._consumer(node)

    def _builtin(self, node: cst.Call, name: str) -> None:
        for position, arg in enumerate(node.args):
            if arg.keyword is not None or arg.star:
                continue
            value = self.lazy(arg.value)
            if value is None:
                continue
            qs = describe(arg.value)
            if name == "len":
                self.evaluated(
                    "DJA203", node, arg.value, value, what=qs, fix=f"await {qs}.acount()"
                )
            elif name == "bool":
                self.evaluated(
                    "DJA204", node, arg.value, value, what=qs, fix=f"await {qs}.aexists()"
                )
            elif name in REPRS:
                self.evaluated(
                    "DJA209",
                    arg.value,
                    arg.value,
                    value,
                    call=f"{name}()",
                    what=qs,
                    fix=self.comprehension(qs),
                )
            else:
                single = name in ("list",) and len(node.args) == 1 and position == 0
                rewrite = AsyncListComp(node) if single else None
                self.evaluated(
                    "DJA202",
                    node if single else arg.value,
                    arg.value,
                    value,
                    rewrite,
                    call=name,
                    what=qs,
                    fix=self.comprehension(qs),
                )

    def _consumer(self, node: cst.Call) -> None:
        qualified = self.ctx.qualify(node.func) or ""
        module, _, name = qualified.rpartition(".")
        if name not in CONSUMERS or (module and not module.startswith(CONSUMER_MODULES)):
            return
        if name == "serialize" and not module and last_name(node.func) == "serialize":
            return  # a bare serialize() of unknown origin
        position, keyword = CONSUMERS[name]
        arg = _argument(node, position, keyword)
        if arg is None:
            return
        candidates: list[cst.BaseExpression] = [arg]
        if isinstance(arg, cst.Dict):
            candidates = [e.value for e in arg.elements if isinstance(e, cst.DictElement)]
        for candidate in candidates:
            value = self.lazy(candidate)
            if value is not None:
                qs = describe(candidate)
                self.evaluated(
                    "DJA208",
                    candidate,
                    candidate,
                    value,
                    call=name,
                    what=qs,
                    fix=self.comprehension(qs),
                )
        if isinstance(arg, cst.Name):
            value = self.ctx.infer(arg)
            if value is not None and value.kind is V.CONTEXT:
                self.error(
                    "DJA208",
                    arg,
                    None,
                    call=name,
                    what=f"a queryset in {arg.value}",
                    fix="a list built with [x async for x in qs]",
                )

    # --- truth tests, indexing, membership, unpacking, formatting ---------------------------------
    def visit_If(self, node: cst.If) -> None:
        self._truth(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._truth(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._truth(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._truth(node.test)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._truth(node.expression)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        self._truth(node.left)

    def _truth(self, test: cst.BaseExpression) -> None:
        """DJA204 for each operand ``test``'s truth value depends on, left to right. Each
        ``and``/``or`` is expanded once: the walker visits every one of a long chain, and
        re-reading the chain below each would take quadratic time."""
        todo = [test]
        while todo:
            test = todo.pop()
            while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                test = test.expression
            if isinstance(test, cst.BooleanOperation):
                if id(test) not in self.truth_tested:
                    self.truth_tested.add(id(test))
                    todo += [test.right, test.left]
                continue
            value = self.lazy(test)
            if value is not None:
                qs = describe(test)
                self.evaluated("DJA204", test, test, value, what=qs, fix=f"await {qs}.aexists()")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) != 1:
            return
        part = node.slice[0].slice
        if isinstance(part, cst.Slice) and part.step is None:
            return
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.AssignTarget | cst.Del):
            return
        value = self.lazy(node.value)
        if value is not None:
            qs = describe(node.value)
            fix = f"await {qs}.afirst()" if _is_zero(part) else f"[x async for x in {qs}[...]]"
            self.evaluated("DJA205", node, node.value, value, what=qs, fix=fix)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if isinstance(target.operator, cst.In | cst.NotIn):
                value = self.lazy(target.comparator)
                if value is not None:
                    qs = describe(target.comparator)
                    self.evaluated(
                        "DJA206",
                        target.comparator,
                        target.comparator,
                        value,
                        what=qs,
                        fix=f"await {qs}.acontains({describe(node.left)})",
                    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(isinstance(t.target, cst.Tuple | cst.List) for t in node.targets):
            value = self.lazy(node.value)
            if value is not None:
                qs = describe(node.value)
                self.evaluated(
                    "DJA207", node.value, node.value, value, what=qs, fix=self.comprehension(qs)
                )

    def visit_StarredElement(self, node: cst.StarredElement) -> None:
        self._star(node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.star == "*":
            self._star(node.value)

    def _star(self, expr: cst.BaseExpression) -> None:
        value = self.lazy(expr)
        if value is not None:
            qs = describe(expr)
            self.evaluated("DJA207", expr, expr, value, what=qs, fix=self.comprehension(qs))

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        value = self.lazy(node.expression)
        if value is not None:
            qs = describe(node.expression)
            self.evaluated(
                "DJA209",
                node.expression,
                node.expression,
                value,
                call="an f-string",
                what=qs,
                fix=self.comprehension(qs),
            )


def _argument(node: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    positional = [a for a in node.args if a.keyword is None and not a.star]
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return positional[position].value if len(positional) > position else None


def _is_zero(part: cst.BaseSlice) -> bool:
    return (
        isinstance(part, cst.Index)
        and isinstance(part.value, cst.Integer)
        and part.value.value == "0"
    )
