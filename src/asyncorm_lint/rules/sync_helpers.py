"""DJA7xx: sync helpers, methods and properties that run ORM work, called from async code.

Decided after the walk, from the call graph of everything analyzed (the module alone,
or the whole project): the chain names each hop down to the query.
"""

from __future__ import annotations

import libcst as cst

from ..call_graph import Chain
from ..expressions import describe
from ..fixes import WrapSyncToAsync
from ..scope import Frame
from ..summary import CallSite
from .base import Rule, RuleDoc, register


@register
class SyncHelperCalls(Rule):
    """A sync function that queries is still a query on the event loop."""

    codes = {
        "DJA701": '{what} runs {effect} ({where}){via} from async function "{func}": wrap it '
        '"{fix}" or make it async',
        "DJA702": "property {what} runs {effect} ({where}){via} when read in async function "
        '"{func}": {fix}',
    }
    docs = {
        "DJA701": RuleDoc(
            "Sync helper that runs ORM work, called from async code",
            "A sync function, method or custom manager method that (directly or through "
            "other helpers) runs sync ORM work raises SynchronousOnlyOperation when called "
            "on the event loop. The message shows the chain down to the query. Calls passed "
            "to sync_to_async and functions decorated with it are not reported.",
            "def get_profile(user):\n    return Profile.objects.get(user=user)\n\n"
            "async def dashboard(request):\n    profile = get_profile(user)",
            "async def dashboard(request):\n    profile = await sync_to_async(get_profile)(user)",
            autofix=True,
        ),
        "DJA702": RuleDoc(
            "Model property that queries, read in async code",
            "A @property or @cached_property of a model that runs ORM work (self.items.count(), "
            "self.author.name...) queries on the event loop when read from async code.",
            "total = order.item_count  # @property: return self.items.count()",
            "total = await sync_to_async(lambda: order.item_count)()",
            manual="a property cannot be awaited: read it inside a sync function",
        ),
    }
    sync_frames = False

    def __init__(self, ctx: object) -> None:
        super().__init__(ctx)  # type: ignore[arg-type]
        self.sites: list[tuple[cst.CSTNode, CallSite, Frame]] = []

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.is_wrapper(node.func):
            return
        site = self.ctx.inferrer.call_site(node.func)
        if site is not None:
            self.sites.append((node, site, self.ctx.frame))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.Call) and parent.func is node:
            return
        if isinstance(parent, cst.AssignTarget | cst.Del):
            return
        site = self.ctx.inferrer.attribute_site(node)
        if site is not None:
            self.sites.append((node, site, self.ctx.frame))

    def finish(self) -> None:
        if not self.sites:
            return
        graph = self.ctx.graph()
        for node, site, frame in self.sites:
            chain = graph.chain(site)
            if chain is not None:
                self._report(node, chain, frame)

    def _report(self, node: cst.CSTNode, chain: Chain, frame: Frame) -> None:
        where = f"{self.ctx.display_path(chain.path)}:{chain.effect.line}"
        via = ""
        if len(chain.functions) > 1:
            first = describe(node.func) if isinstance(node, cst.Call) else describe(node)
            via = f" via {chain.render(first)}"
        saved, self.ctx.frame = self.ctx.frame, frame
        try:
            if isinstance(node, cst.Call):
                spelled = describe(node.func)
                args = "..." if node.args else ""
                self.error(
                    "DJA701",
                    node,
                    WrapSyncToAsync(node),
                    what=f"{spelled}()",
                    effect=chain.effect.what,
                    where=where,
                    via=via,
                    fix=f"await sync_to_async({spelled})({args})",
                )
            else:
                self.error(
                    "DJA702",
                    node,
                    None,
                    what=describe(node),
                    effect=chain.effect.what,
                    where=where,
                    via=via,
                    fix=f'use "await sync_to_async(lambda: {describe(node)})()"',
                )
        finally:
            self.ctx.frame = saved
