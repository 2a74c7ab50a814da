"""Rule families. Adding a family is adding one module here that uses ``@register``."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from .base import REGISTRY, Rule, RuleDoc, register

if TYPE_CHECKING:
    from ..walker import ModuleContext

__all__ = ["REGISTRY", "Rule", "RuleDoc", "all_codes", "all_docs", "all_rules", "register"]


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


_discover()


def all_rules(ctx: ModuleContext) -> list[Rule]:
    return [cls(ctx) for cls in REGISTRY]


def all_codes() -> dict[str, str]:
    """Every code any rule family can emit, with its message template."""
    return {code: template for cls in REGISTRY for code, template in cls.codes.items()}


def all_docs() -> dict[str, RuleDoc]:
    """Reference text for every code, in code order."""
    docs = {code: doc for cls in REGISTRY for code, doc in cls.docs.items()}
    return dict(sorted(docs.items()))
