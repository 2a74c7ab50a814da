"""What a module's own calls pass to its functions: the argument of each parameter.

``async def refresh(queryset)`` iterating ``queryset`` is a bug when the module calls
``refresh(Body.objects.all())``. The walker reads functions in source order, so the
calls may come after the function; this index is built once per module, on first
use, and the walker infers the arguments it lists where they are passed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import libcst as cst


class Passed(NamedTuple):
    """One call's argument for a parameter, and the function the call is in."""

    value: cst.BaseExpression
    caller: cst.FunctionDef | None


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[cst.Call, cst.FunctionDef | None]]] = defaultdict(list)
        self.functions: list[cst.FunctionDef] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name):
            caller = self.functions[-1] if self.functions else None
            self.calls[node.func.value].append((node, caller))


class CallArguments:
    """Calls by plain name (``refresh(...)``), indexed by the called name."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._calls: dict[str, list[tuple[cst.Call, cst.FunctionDef | None]]] | None = None

    def passed(self, function: str, position: int, name: str) -> list[Passed]:
        """What the module's calls of ``function`` pass for parameter ``name`` (at ``position``)."""
        if self._calls is None:
            collector = _Collector()
            self._module.visit(collector)
            self._calls = collector.calls
        out = []
        for call, caller in self._calls.get(function, ()):
            value = _argument(call, position, name)
            if value is not None:
                out.append(Passed(value, caller))
        return out


def _argument(call: cst.Call, position: int, name: str) -> cst.BaseExpression | None:
    positional = 0
    for arg in call.args:
        if arg.star:
            return None  # *args/**kwargs: which argument lands where is unknown
        if arg.keyword is not None:
            if arg.keyword.value == name:
                return arg.value
            continue
        if positional == position:
            return arg.value
        positional += 1
    return None


def assigned_in(function: cst.FunctionDef, name: str) -> list[cst.BaseExpression]:
    """The values ``function`` assigns to its local ``name``, nested functions aside."""
    found: list[cst.BaseExpression] = []

    class Assignments(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                if isinstance(target.target, cst.Name) and target.target.value == name:
                    found.append(node.value)

    function.visit(Assignments())
    return found
