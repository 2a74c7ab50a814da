"""DJA4xx: attribute reads that make Django fetch a relation or a deferred field lazily.

Only where the model is known from the analyzed code: never a guess from a name alone.
"""

from __future__ import annotations

import libcst as cst

from ..expressions import describe, dotted_name
from ..index import ModelIndex
from ..scope import MISSING
from ..values import V, Value
from .base import Rule, RuleDoc, register


@register
class LazyAttributeAccess(Rule):
    """``obj.author`` (not select_related), ``user.profile``, fields left out by only()/defer()."""

    codes = {
        "DJA401": '{what} in async function "{func}" fetches the related {target} lazily: {fix}',
        "DJA402": '{what} in async function "{func}" fetches the reverse one-to-one {target} '
        "lazily: {fix}",
        "DJA403": '{what} in async function "{func}" loads the deferred field "{field}": {fix}',
    }
    docs = {
        "DJA401": RuleDoc(
            "Lazy forward relation access",
            "Reading a ForeignKey/OneToOneField (or GenericForeignKey) that was not loaded "
            "with select_related()/prefetch_related() runs a query. Not reported for the "
            "_id column, for instances built in the same function, or after the first access "
            "(Django caches the related object). Needs the model's definition: an unknown "
            "model is never guessed from an attribute name.",
            "book = await Book.objects.aget(pk=pk)\nname = book.author.name",
            'book = await Book.objects.select_related("author").aget(pk=pk)\n'
            "name = book.author.name",
            manual="where to add select_related() depends on the query that fetched the instance",
        ),
        "DJA402": RuleDoc(
            "Lazy reverse one-to-one access",
            "user.profile for a OneToOneField pointing at User runs a query unless the "
            'instance was fetched with select_related("profile").',
            "user = await User.objects.aget(pk=pk)\nbio = user.profile.bio",
            'user = await User.objects.select_related("profile").aget(pk=pk)\n'
            "bio = user.profile.bio",
            manual="where to add select_related() depends on the query that fetched the instance",
        ),
        "DJA403": RuleDoc(
            "Deferred field access",
            "A field left out by only() or named in defer() is loaded by a query on first read.",
            'book = await Book.objects.only("title").aget(pk=pk)\ntext = book.body',
            'book = await Book.objects.only("title", "body").aget(pk=pk)\ntext = book.body',
            manual="choose which fields the query should load",
        ),
    }

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if _is_store(self.ctx.parent(node), node):
            return
        base = self.ctx.infer(node.value)
        if base is None or base.kind not in (V.INSTANCE, V.LAZY_USER) or base.model is None:
            return
        attr = node.attr.value
        index = self.ctx.index
        relation = index.relation(base.model, attr)
        owner = describe(node.value)
        if relation is not None and relation.kind in ("forward", "reverse_one_to_one"):
            if base.is_loaded(attr):
                return
            dotted = dotted_name(node)
            if dotted is not None:  # once fetched, Django caches it on the instance
                if self.ctx.frame.lookup(dotted) is not MISSING:
                    return
                self.ctx.frame.bind_state(
                    dotted, self.ctx.inferrer.attribute_of(base.but(fresh=True), attr)
                )
            target = (relation.target or "object").rpartition(".")[2]
            code = "DJA401" if relation.kind == "forward" else "DJA402"
            loader = "select_related" if relation.target else "prefetch_related"
            fix = f'add {loader}("{attr}") to the query that fetched {owner}'
            self.error(code, node, None, what=describe(node), target=target, fix=fix)
            return
        if relation is None and base.kind is V.INSTANCE and _deferred(base, attr, index):
            refresh = f"await {owner}.arefresh_from_db(fields=['{attr}'])"
            self.error(
                "DJA403",
                node,
                None,
                what=describe(node),
                field=attr,
                fix=f'add it to only() or use "{refresh}"',
            )


def _deferred(base: Value, attr: str, index: ModelIndex) -> bool:
    """True when only()/defer() left ``attr``, a concrete field of the model, unloaded."""
    if attr in base.deferred:
        return True
    return (
        base.only is not None
        and attr not in base.only
        and base.model is not None
        and attr in index.plain_fields(base.model)
    )


def _is_store(parent: cst.CSTNode | None, node: cst.CSTNode) -> bool:
    """True when ``node`` is assigned to or deleted, not read."""
    if isinstance(parent, cst.AssignTarget | cst.Del):
        return True
    return bool(isinstance(parent, cst.AnnAssign | cst.AugAssign) and parent.target is node)
