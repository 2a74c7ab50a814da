"""Which qualified name each local name refers to, from a module's import statements."""

from __future__ import annotations

import ast


def resolve_relative(module: str, is_package: bool, level: int, target: str) -> str:
    """``from ..x import y`` inside ``module`` -> ``pkg.x`` (still ``.``-prefixed if unknown)."""
    if not module:
        return "." * level + target
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if len(parts) >= level - 1 else []
    base = ".".join(parts)
    return f"{base}.{target}" if base and target else base or target


class ImportTable:
    """Local name -> qualified name (``"django.db.models"``, ``"app.models.Article"``)."""

    def __init__(self, module: str = "", is_package: bool = False) -> None:
        self.module = module
        self.is_package = is_package
        self.names: dict[str, str] = {}

    def add(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    self.names[head] = head
            return
        source = node.module or ""
        if node.level:
            source = resolve_relative(self.module, self.is_package, node.level, source)
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            self.names[local] = f"{source}.{alias.name}" if source else alias.name

    def qualify(self, dotted: str | None) -> str | None:
        """``"auth.login"`` -> ``"django.contrib.auth.login"`` when ``auth`` was imported."""
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        base = self.names.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def source_of(self, local: str) -> str | None:
        return self.names.get(local)


def is_models_module(qualified: str) -> bool:
    """True for names that come from a module called ``models`` (``app.models.X``)."""
    parts = qualified.lstrip(".").split(".")
    return len(parts) >= 2 and "models" in parts[:-1]
