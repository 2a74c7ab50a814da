"""What a module's own calls pass to its functions: the argument of each parameter.

``async def refresh(queryset)`` iterating ``queryset`` is a bug when the module calls
``refresh(Body.objects.all())``. The walker reads functions in source order, so the
calls may come after the function; this index is built once per module, on first use,
with Python's ``ast`` (a libcst traversal per module costs more than the rest of the
walk), and hands the walker libcst expressions to infer.
"""

from __future__ import annotations

import ast
from collections import defaultdict

import libcst as cst

from .django_api import QUERYSET_BUILDERS

#: An argument as passed, or as assigned to the local name that was passed.
Passed = cst.BaseExpression
#: Stands for an argument known not to be a queryset (a literal, ``list(...)``...).
NOT_A_QUERYSET: cst.BaseExpression = cst.Name("None")
#: Calls whose result is never a lazy queryset.
EVALUATING = frozenset({"list", "tuple", "set", "sorted", "dict", "len", "str", "int"})
#: What a queryset expression is built with: a manager, or a method returning a queryset.
BUILDING = frozenset({"objects", "_default_manager", "_base_manager"}) | QUERYSET_BUILDERS


class CallArguments:
    """Calls by plain name (``refresh(...)``), indexed by the called name."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._calls: dict[str, list[tuple[ast.Call, ast.AST | None]]] | None = None
        self._lines: list[bytes] | None = None

    def _index(self) -> dict[str, list[tuple[ast.Call, ast.AST | None]]]:
        if self._calls is None:
            self._calls = defaultdict(list)
            try:
                tree = ast.parse(self._source)
            except (SyntaxError, ValueError, RecursionError):
                return self._calls
            self._collect(tree, None)
        return self._calls

    def _collect(self, node: ast.AST, function: ast.AST | None) -> None:
        assert self._calls is not None
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name):
                self._calls[child.func.id].append((child, function))
            inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            self._collect(child, inner)

    def passed(self, function: str, position: int, name: str) -> list[Passed]:
        """What the module's calls of ``function`` pass for parameter ``name`` (at
        ``position``); a local name passed stands for the values its function assigns it."""
        out: list[Passed] = []
        for call, caller in self._index().get(function, ()):
            argument = _argument(call, position, name)
            if argument is None:
                continue
            if isinstance(argument, ast.Name) and caller is not None:
                expressions = _assigned_in(caller, argument.id)
            else:
                expressions = [argument]
            for expression in expressions:
                if _plainly_not_a_queryset(expression):
                    out.append(NOT_A_QUERYSET)
                elif _may_build_a_queryset(expression):
                    parsed = self._expression(expression)
                    if parsed is not None:
                        out.append(parsed)
        return out

    def _expression(self, node: ast.expr) -> cst.BaseExpression | None:
        if self._lines is None:
            self._lines = [line.encode() for line in self._source.splitlines(keepends=True)]
        lines = self._lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        if not lines or node.end_col_offset is None:
            return None
        if len(lines) == 1:
            raw = lines[0][node.col_offset : node.end_col_offset]
        else:
            raw = lines[0][node.col_offset :] + b"".join(lines[1:-1])
            raw += lines[-1][: node.end_col_offset]
        text = raw.decode(errors="replace")
        try:
            return cst.parse_expression(text)
        except cst.ParserSyntaxError:  # a segment spanning lines inside brackets
            try:
                return cst.parse_expression(f"({text})")
            except cst.ParserSyntaxError:
                return None


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg is None:
            return None  # **kwargs: which argument lands where is unknown
        if keyword.arg == name:
            return keyword.value
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            return None
        if index == position:
            return arg
    return None


def _assigned_in(function: ast.AST, name: str) -> list[ast.expr]:
    """The values ``function`` assigns to its local ``name``, nested functions aside."""
    found: list[ast.expr] = []
    todo = list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            found.append(node.value)
        todo.extend(ast.iter_child_nodes(node))
    return found


def _plainly_not_a_queryset(node: ast.expr) -> bool:
    if isinstance(
        node,
        ast.List | ast.Tuple | ast.Set | ast.Dict | ast.ListComp | ast.SetComp | ast.DictComp,
    ):
        return True
    if isinstance(node, ast.GeneratorExp | ast.Constant | ast.JoinedStr):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in EVALUATING
    )


def _may_build_a_queryset(node: ast.expr) -> bool:
    """A chain reaching a manager or a queryset-building method: worth inferring."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            if node.attr in BUILDING:
                return True
            node = node.value
        elif isinstance(node, ast.IfExp):
            return _may_build_a_queryset(node.body) or _may_build_a_queryset(node.orelse)
        else:
            return False
