"""Frames and scopes the walker keeps while it reads a module in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from .values import Value

if TYPE_CHECKING:
    from .summary import FunctionSummary

MISSING = object()


@dataclass
class ClassFrame:
    """A class body: its name, model key (for model classes) and ``self.x`` bindings."""

    name: str
    key: str
    kind: str | None  # "model", "manager", "modelform" or None
    attrs: dict[str, Value | None] = field(default_factory=dict)
    is_drf_view: bool = False


@dataclass
class Frame:
    """A function (or lambda) being read: sync or async, and its variables."""

    name: str
    is_async: bool
    node: cst.CSTNode | None
    cls: ClassFrame | None = None
    parent: Frame | None = None
    vars: dict[str, Value | None] = field(default_factory=dict)
    # Comprehension scopes pushed inside this frame.
    layers: list[dict[str, Value | None]] = field(default_factory=list)
    # The function's summary (named functions only; lambdas and the module have none).
    summary: FunctionSummary | None = None
    returns: list[Value | None] = field(default_factory=list)
    in_thread: bool = False  # a sync function that a sync_to_async wrapper runs

    @property
    def label(self) -> str:
        return f"{self.cls.name}.{self.name}" if self.cls and self.name != "<lambda>" else self.name

    def lookup(self, name: str) -> object:
        for layer in reversed(self.layers):
            if name in layer:
                return layer[name]
        frame: Frame | None = self
        while frame is not None:
            if name in frame.vars:
                return frame.vars[name]
            frame = frame.parent
        return MISSING

    def bind(self, name: str, value: Value | None) -> None:
        if self.layers:
            self.layers[-1][name] = value
        else:
            self.vars[name] = value

    def bind_state(self, dotted: str, value: Value | None) -> None:
        """``request.user``, ``article.author``: what an object caches once loaded lives as
        long as the name holding the object, so it is bound where that name is (a
        comprehension's own variable, else the function), not in the innermost
        comprehension: ``[x async for x in qs.filter(user=request.user)]`` loads the
        user for the rest of the function too."""
        root = dotted.split(".", 1)[0]
        for layer in reversed(self.layers):
            if root in layer:
                layer[dotted] = value
                return
        self.vars[dotted] = value
