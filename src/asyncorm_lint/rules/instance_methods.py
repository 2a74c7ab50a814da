"""DJA3xx: model instance methods and related-manager writes that query in async code."""

from __future__ import annotations

import libcst as cst

from ..django_api import MODEL_METHODS, RELATED_MANAGER_METHODS
from ..inference import maybe_container_call
from ..values import V
from .base import Rule, RuleDoc, register

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
    docs = {
        "DJA301": RuleDoc(
            "Model.save() in async code",
            "save() writes synchronously; asave() exists since Django 4.2.",
            "article.save()",
            "await article.asave()",
            autofix=True,
        ),
        "DJA302": RuleDoc(
            "Model.delete() in async code",
            "delete() collects and deletes synchronously; adelete() exists since Django 4.2.",
            "article.delete()",
            "await article.adelete()",
            autofix=True,
        ),
        "DJA303": RuleDoc(
            "Model.refresh_from_db() in async code",
            "refresh_from_db() queries synchronously; arefresh_from_db() exists since 4.2.",
            "article.refresh_from_db()",
            "await article.arefresh_from_db()",
            autofix=True,
        ),
        "DJA304": RuleDoc(
            "Related-manager write in async code",
            "add/remove/clear/set (a-forms since Django 4.2) and create/get_or_create/"
            "update_or_create (4.1) on reverse FK, many-to-many and generic relations write "
            "synchronously. Reported only where the relation is known from the models.",
            "post.tags.add(tag)",
            "await post.tags.aadd(tag)",
            autofix=True,
        ),
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
        elif (
            receiver.kind is V.RELATED_MANAGER
            and method in RELATED
            and not maybe_container_call(receiver, method, node)
        ):
            fact = RELATED[method]
        else:
            return
        self.report_method_call(node, func, fact)
