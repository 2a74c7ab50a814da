"""Editing helpers the fixers share."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor


@dataclass
class FixContext:
    """What a fixer may ask about where the node sits, and how to queue import changes."""

    context: CodemodContext
    parents: list[cst.CSTNode] = field(default_factory=list)

    @property
    def parent(self) -> cst.CSTNode | None:
        return self.parents[-1] if self.parents else None

    def awaited(self) -> bool:
        return isinstance(self.parent, cst.Await)

    def in_generator_expression(self) -> bool:
        """``await`` inside a generator expression would make it an async generator."""
        for node in reversed(self.parents):
            if isinstance(node, cst.GeneratorExp):
                return True
            if isinstance(node, cst.FunctionDef | cst.Lambda):
                return False
        return False

    def add_import(self, module: str, name: str) -> None:
        AddImportsVisitor.add_needed_import(self.context, module, name)

    def remove_import_if_unused(self, module: str, name: str, asname: str | None = None) -> None:
        RemoveImportsVisitor.remove_unused_import(self.context, module, name, asname)


class NotRewritten(Exception):
    """The fixer declines: the message says why (reported in the summary)."""


def await_(expression: cst.BaseExpression) -> cst.Await:
    return cst.Await(expression=expression)


def rename_call(call: cst.Call, new_name: str) -> cst.Call:
    """``recv.get(...)`` -> ``recv.aget(...)``; ``get(...)`` -> ``aget(...)``."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return call.with_changes(func=func.with_changes(attr=cst.Name(new_name)))
    if isinstance(func, cst.Name):
        return call.with_changes(func=func.with_changes(value=new_name))
    raise NotRewritten("the callee is not a plain name or attribute")
