"""``helper(args)`` -> ``await sync_to_async(helper)(args)`` for a sync helper that runs ORM
work (DJA701): the same call, in a worker thread; ``asgiref.sync`` is imported."""

from __future__ import annotations

import libcst as cst

from ...fixes import WrapSyncToAsync
from ._edit import FixContext, NotRewritten, await_

FIXES = WrapSyncToAsync


def apply(fix: WrapSyncToAsync, updated: cst.CSTNode, ctx: FixContext) -> cst.BaseExpression:
    assert isinstance(updated, cst.Call)
    if ctx.in_generator_expression():
        raise NotRewritten("inside a generator expression (await would make it asynchronous)")
    ctx.add_import("asgiref.sync", "sync_to_async")
    wrapper = cst.Call(func=cst.Name("sync_to_async"), args=[cst.Arg(updated.func)])
    wrapped = updated.with_changes(func=wrapper)
    return wrapped if ctx.awaited() else await_(wrapped)
