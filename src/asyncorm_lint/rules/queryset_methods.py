"""DJA1xx: sync QuerySet/Manager methods and ORM shortcut functions called in async code."""

from __future__ import annotations

import libcst as cst

from ..django_api import PREFETCH_FUNCTIONS, QUERYSET_METHODS, SHORTCUTS, USER_MANAGER_METHODS
from ..fixes import AwaitFunction
from ..inference import maybe_container_call
from ..values import V
from .base import Rule, RuleDoc, register

METHODS = {f.name: f for f in QUERYSET_METHODS}
FUNCTIONS = {f.name: f for f in [*SHORTCUTS, *PREFETCH_FUNCTIONS]}
USER_MANAGER = {f.name for f in USER_MANAGER_METHODS}
RELATED_WRITES = {"add", "remove", "clear", "set", "create", "get_or_create", "update_or_create"}
CACHED_ON_PREFETCH = {"count", "exists"}
FUNCTION_MODULES = ("django.shortcuts", "django.db.models", "rest_framework.generics")


@register
class QuerysetMethodCalls(Rule):
    """A sync QuerySet/Manager method runs a query on the event loop thread."""

    codes = {
        "DJA101": '{what} in async function "{func}": use "{fix}"',
        "DJA102": '{what} in async function "{func}": use "{fix}"',
        "DJA103": '{what} in async function "{func}": use "{fix}"',
    }
    docs = {
        "DJA101": RuleDoc(
            "Sync QuerySet/Manager method in async code",
            "get(), create(), count(), exists(), first(), update(), delete()... run a query when "
            "called; on the event loop thread Django raises SynchronousOnlyOperation. Every one "
            "has an a-prefixed twin (Django 4.1+). Also applies to related managers "
            "(obj.comments.count()).",
            "article = Article.objects.get(pk=pk)",
            "article = await Article.objects.aget(pk=pk)",
            autofix=True,
        ),
        "DJA102": RuleDoc(
            "get_object_or_404 / get_list_or_404 in async code",
            "The shortcuts query synchronously; Django 5.0 added aget_object_or_404 and "
            "aget_list_or_404.",
            "obj = get_object_or_404(Article, pk=pk)",
            "obj = await aget_object_or_404(Article, pk=pk)",
            autofix=True,
        ),
        "DJA103": RuleDoc(
            "prefetch_related_objects in async code",
            "Runs the prefetch queries synchronously; Django 5.0 added aprefetch_related_objects.",
            'prefetch_related_objects(articles, "tags")',
            'await aprefetch_related_objects(articles, "tags")',
            autofix=True,
        ),
    }

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            self._method_call(node, func)
        else:
            self._function_call(node, func)

    def _method_call(self, node: cst.Call, func: cst.Attribute) -> None:
        method = func.attr.value
        fact = METHODS.get(method)
        if fact is None:
            return
        receiver = self.ctx.infer(func.value)
        if receiver is None or not receiver.is_queryset_like:
            return
        if maybe_container_call(receiver, method, node):
            return  # ``seen_set.update(...)``: maybe a Python set
        if receiver.kind is V.MANAGER and method in USER_MANAGER:
            return  # DJA504
        if receiver.kind is V.RELATED_MANAGER and method in RELATED_WRITES:
            return  # DJA304
        if method in CACHED_ON_PREFETCH and "" in receiver.prefetched:
            return  # answered from the prefetch cache
        # ``it = qs.iterator()`` has no awaitable twin (aiterator() is an async generator).
        self.report_method_call(node, func, fact, rewritable=method != "iterator")

    def _function_call(self, node: cst.Call, func: cst.BaseExpression) -> None:
        qualified = self.ctx.qualify(func) or ""
        module, _, name = qualified.rpartition(".")
        fact = FUNCTIONS.get(name)
        if fact is None or self.ctx.is_awaited(node):
            return
        if module and module not in FUNCTION_MODULES:
            return
        rewrite = None
        if fact.available(self.version) and fact.module and module == fact.module:
            rewrite = AwaitFunction(node, str(fact.replacement), fact.module, name)
        self.error(
            fact.code, node, rewrite, what=f"{name}()", fix=self.function_fix(func, fact, node)
        )
