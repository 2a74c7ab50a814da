"""``for x in qs:`` -> ``async for x in qs:`` (loops and list/set/dict comprehensions);
``qs.iterator(...)`` becomes ``qs.aiterator(...)``. Both evaluate the queryset once and
iterate the same rows."""

from __future__ import annotations

import libcst as cst

from ...fixes import AsyncFor
from ._edit import FixContext, NotRewritten

FIXES = AsyncFor


def apply(fix: AsyncFor, updated: cst.CSTNode, ctx: FixContext) -> cst.CSTNode:
    assert isinstance(updated, cst.For | cst.CompFor)
    if isinstance(updated, cst.CompFor) and _in_generator(ctx, updated):
        raise NotRewritten("a generator expression would become an async generator")
    iterable = updated.iter
    if (
        isinstance(iterable, cst.Call)
        and isinstance(iterable.func, cst.Attribute)
        and iterable.func.attr.value == "iterator"
    ):
        iterable = iterable.with_changes(
            func=iterable.func.with_changes(attr=cst.Name("aiterator"))
        )
    return updated.with_changes(asynchronous=cst.Asynchronous(), iter=iterable)


def _in_generator(ctx: FixContext, node: cst.CompFor) -> bool:
    for parent in reversed(ctx.parents):
        if isinstance(parent, cst.GeneratorExp):
            return True
        if isinstance(parent, cst.ListComp | cst.SetComp | cst.DictComp):
            return False
    return False
