"""The rule base class and registry: one rule class per family, codes declared on the class."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import libcst as cst

from ..django_api import SYNC_TO_ASYNC, Fact
from ..expressions import describe
from ..fixes import AwaitMethod

if TYPE_CHECKING:
    from ..walker import ModuleContext

REGISTRY: list[type[Rule]] = []


class RuleDoc(NamedTuple):
    """Reference text for one code: rendered into docs/rules.md and ``asyncorm-lint rules``."""

    title: str
    why: str
    before: str
    after: str
    autofix: bool = False
    manual: str = ""  # why ``asyncorm-lint fix`` leaves it to you (when autofix is False)


def _declaring(code: str) -> type[Rule]:
    """The family that declares ``code`` (e.g. DJA601, reported at an evaluation site)."""
    for cls in REGISTRY:
        if code in cls.codes:
            return cls
    raise KeyError(f"{code} is not declared by any rule family")


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule family part of every analysis."""
    REGISTRY.append(cls)
    return cls


class Rule:
    """A family of checks. Subclasses declare ``codes`` (code -> message template) and
    ``visit_<NodeType>(node)`` handlers; the walker calls handlers for nodes in async code.

    Templates are ``str.format`` strings; ``{func}`` is the enclosing async function.
    """

    codes: ClassVar[dict[str, str]] = {}
    docs: ClassVar[dict[str, RuleDoc]] = {}
    # Also run inside sync functions, to record their ORM work in the call graph.
    sync_frames: ClassVar[bool] = True
    # Run inside sync functions that a wrapper runs in a worker thread (``sync_frames``
    # rules do already when summarizing); such rules report with ``error(anywhere=True)``.
    thread_frames: ClassVar[bool] = False

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx

    def finish(self) -> None:
        """Called once after the walk, when the whole module has been read."""

    def handlers(self) -> dict[str, Callable[[Any], None]]:
        return {
            name[len("visit_") :]: getattr(self, name)
            for name in dir(self)
            if name.startswith("visit_") and callable(getattr(self, name))
        }

    def error(
        self,
        code: str,
        node: cst.CSTNode,
        rewrite: object = None,
        *,
        anywhere: bool = False,
        **fields: str,
    ) -> None:
        """Report ``code`` at ``node`` with an optional safe ``rewrite`` (see :mod:`..fixes`);
        ignored when another rule already claimed the node. ``anywhere``: a finding even
        outside async code (a ``thread_frames`` rule, a class statement)."""
        family = self if code in self.codes else _declaring(code)
        template = family.codes[code]
        message = template.format(func=self.ctx.frame.label, **fields)
        what = message.split(" in async function")[0]
        self.ctx.report(code, node, message, rewrite, what, anywhere)

    # --- message helpers shared by the families ---------------------------------------------
    @property
    def version(self) -> tuple[int, int]:
        return self.ctx.options.django_version

    def method_fix(self, receiver: cst.BaseExpression, fact: Fact, call: cst.Call | None) -> str:
        """``await Article.objects.aget(...)`` or the sync_to_async form for older Django."""
        recv = describe(receiver)
        args = "..." if call is not None and call.args else ""
        if fact.available(self.version):
            return f"await {recv}.{fact.replacement}({args})"
        return SYNC_TO_ASYNC.format(callable=f"{recv}.{fact.name}", args=args)

    def report_method_call(
        self, node: cst.Call, func: cst.Attribute, fact: Fact, rewritable: bool = True
    ) -> None:
        """A sync method with an a-twin: the message, and the rewrite when the twin exists."""
        rewrite = None
        if rewritable and fact.available(self.version):
            rewrite = AwaitMethod(node, str(fact.replacement))
        self.error(
            fact.code,
            node,
            rewrite,
            what=f"{describe(func)}()",
            fix=self.method_fix(func.value, fact, node),
        )

    def function_fix(self, func: cst.BaseExpression, fact: Fact, call: cst.Call) -> str:
        """``await aauthenticate(...)`` keeping the caller's spelling (``auth.alogin``)."""
        spelled = describe(func)
        args = "..." if call.args else ""
        if fact.available(self.version):
            prefix, _, _ = spelled.rpartition(".")
            name = f"{prefix}.{fact.replacement}" if prefix else str(fact.replacement)
            return f"await {name}({args})"
        return SYNC_TO_ASYNC.format(callable=spelled, args=args)
