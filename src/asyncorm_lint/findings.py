"""The one result type every rule, output format and fixer speaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One problem at one place: ``line`` is 1-based, ``col`` 0-based (as flake8 expects)."""

    code: str
    line: int
    col: int
    message: str
    path: str = ""
    fix: Any = field(default=None, compare=False, repr=False)
    node: Any = field(default=None, compare=False, repr=False)
    fixable: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.fix is not None:
            object.__setattr__(self, "fixable", True)

    @property
    def text(self) -> str:
        """``"DJA101 message"``: the flake8-style message with its code."""
        return f"{self.code} {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col + 1,
            "code": self.code,
            "message": self.message,
            "fixable": self.fixable,
        }
