"""``recv.get(...)`` -> ``await recv.aget(...)``: QuerySet/Manager, model instance and
related-manager methods whose a-twin has the same signature and result."""

from __future__ import annotations

import libcst as cst

from ...fixes import AwaitMethod
from ._edit import FixContext, NotRewritten, await_, rename_call

FIXES = AwaitMethod


def apply(fix: AwaitMethod, updated: cst.CSTNode, ctx: FixContext) -> cst.BaseExpression:
    assert isinstance(updated, cst.Call)
    if ctx.in_generator_expression():
        raise NotRewritten("inside a generator expression (await would make it asynchronous)")
    renamed = rename_call(updated, fix.new_name)
    return renamed if ctx.awaited() else await_(renamed)
