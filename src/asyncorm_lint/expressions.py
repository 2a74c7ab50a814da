"""Small helpers that read libcst expressions: dotted names and short descriptions."""

from __future__ import annotations

import libcst as cst


def dotted_name(node: cst.BaseExpression | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def last_name(node: cst.BaseExpression) -> str | None:
    """The last identifier of a Name/Attribute (``c`` in ``a.b.c``)."""
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return None


def is_capitalized(name: str | None) -> bool:
    return bool(name) and name[0].isupper()  # type: ignore[index]


def describe(node: cst.CSTNode, limit: int = 60) -> str:
    """A short, readable rendering: ``Article.objects.filter(...).get()``."""
    text = _describe(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_describe(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_describe(node.func)}({'...' if node.args else ''})"
    if isinstance(node, cst.Subscript):
        return f"{_describe(node.value)}[...]"
    if isinstance(node, cst.Await):
        return f"(await {_describe(node.expression)})"
    if isinstance(node, cst.SimpleString | cst.Integer):
        return node.value
    return cst.Module([]).code_for_node(node).strip()
