"""Line and column of chosen nodes, from one light code-generation pass.

libcst's PositionProvider records a range for every node of the module; we only need
the start of a few (findings, effects), which a counting ``CodegenState`` gives at about
the cost of printing the module. A node's start is its first non-whitespace token, as
flake8 reports it (leading blank lines and comments of a statement are skipped).
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
from libcst._nodes.internal import CodegenState


class _StartFinder(CodegenState):
    def __init__(self, module: cst.Module, wanted: set[int]) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.wanted = wanted
        self.waiting: list[int] = []
        self.found: dict[int, tuple[int, int]] = {}
        self.line = 1
        self.col = 0

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self.waiting.append(id(node))

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if self.waiting and value.strip():
            stripped = len(value) - len(value.lstrip())
            head = value[:stripped]
            line, col = self._advance(self.line, self.col, head)
            for key in self.waiting:
                self.found.setdefault(key, (line, col))
            self.waiting.clear()
        self.line, self.col = self._advance(self.line, self.col, value)

    @staticmethod
    def _advance(line: int, col: int, text: str) -> tuple[int, int]:
        newlines = text.count("\n")
        if newlines:
            return line + newlines, len(text) - text.rfind("\n") - 1
        return line, col + len(text)


def node_starts(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, tuple[int, int]]:
    """``id(node) -> (line, column)`` (1-based line, 0-based column) for ``nodes``."""
    wanted = {id(n) for n in nodes}
    if not wanted:
        return {}
    state = _StartFinder(module, wanted)
    module._codegen(state)
    return state.found
