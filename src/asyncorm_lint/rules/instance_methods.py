"""DJA3xx: model instance methods and related-manager writes that query in async code."""

from __future__ import annotations

import libcst as cst

from ..django_api import MODEL_METHODS, RELATED_MANAGER_METHODS
from ..expressions import describe
from ..fixes import AwaitMethod
from ..values import V
from .base import Rule, register

INSTANCE = {f.name: f for f in MODEL_METHODS}
RELATED = {f.name: f for f in RELATED_MANAGER_METHODS}


@register
class InstanceMethodCalls(Rule):
    """``obj.save()``, ``obj.delete()``, ``obj.tags.add()``... write on the event loop thread."""

    codes = {
        "DJA301": '{what} in async function "{func}": use "{fix}"',
        "DJA302": '{what} in async function "{func}": use "{fix}"',
        "DJA303": '{what} in async function "{func}": use "{fix}"',
        "DJA304": 'related manager {what} in async function "{func}": use "{fix}"',
    }

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method not in INSTANCE and method not in RELATED:
            return
        receiver = self.ctx.infer(func.value)
        if receiver is None:
            return
        if receiver.kind in (V.INSTANCE, V.LAZY_USER) and method in INSTANCE:
            fact = INSTANCE[method]
        elif receiver.kind is V.RELATED_MANAGER and method in RELATED:
            fact = RELATED[method]
        else:
            return
        rewrite = AwaitMethod(node, str(fact.replacement)) if fact.available(self.version) else None
        self.error(
            fact.code,
            node,
            rewrite,
            what=f"{describe(func)}()",
            fix=self.method_fix(func.value, fact, node),
        )
