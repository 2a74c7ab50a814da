"""``list(qs)`` -> ``[obj async for obj in qs]``: the same rows, in the same order."""

from __future__ import annotations

import libcst as cst

from ...fixes import AsyncListComp
from ._edit import FixContext, NotRewritten

FIXES = AsyncListComp


def apply(fix: AsyncListComp, updated: cst.CSTNode, ctx: FixContext) -> cst.BaseExpression:
    assert isinstance(updated, cst.Call)
    if ctx.in_generator_expression():
        raise NotRewritten("inside a generator expression (async for would make it asynchronous)")
    if len(updated.args) != 1 or updated.args[0].keyword is not None or updated.args[0].star:
        raise NotRewritten("list() with other arguments")
    iterable = updated.args[0].value
    name = _fresh_name(iterable)
    return cst.ListComp(
        elt=cst.Name(name),
        for_in=cst.CompFor(target=cst.Name(name), iter=iterable, asynchronous=cst.Asynchronous()),
        lpar=updated.lpar,
        rpar=updated.rpar,
    )


def _fresh_name(expression: cst.BaseExpression) -> str:
    used = {n.value for n in _names(expression)}
    for candidate in ("obj", "row", "item", "x"):
        if candidate not in used:
            return candidate
    return "_obj"


def _names(node: cst.CSTNode) -> list[cst.Name]:
    out: list[cst.Name] = []

    class Collect(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out.append(n)

    node.visit(Collect())
    return out
