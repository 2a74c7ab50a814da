"""``authenticate(...)`` -> ``await aauthenticate(...)``, ``get_object_or_404`` ->
``await aget_object_or_404``...: the import follows (added, and the old one removed
when nothing uses it any more); ``auth.login(...)`` becomes ``await auth.alogin(...)``."""

from __future__ import annotations

import libcst as cst

from ...fixes import AwaitFunction
from ._edit import FixContext, NotRewritten, await_, rename_call

FIXES = AwaitFunction


def apply(fix: AwaitFunction, updated: cst.CSTNode, ctx: FixContext) -> cst.BaseExpression:
    assert isinstance(updated, cst.Call)
    if ctx.in_generator_expression():
        raise NotRewritten("inside a generator expression (await would make it asynchronous)")
    func = updated.func
    if isinstance(func, cst.Name):
        local = func.value
        renamed = updated.with_changes(func=cst.Name(fix.new_name))
        ctx.add_import(fix.module, fix.new_name)
        asname = local if local != fix.old_name else None
        ctx.remove_import_if_unused(fix.module, fix.old_name, asname)
    else:
        renamed = rename_call(updated, fix.new_name)
    return renamed if ctx.awaited() else await_(renamed)


__all__ = ["FIXES", "NotRewritten", "apply"]
