"""One fixer per rewrite kind; adding one is adding a module that sets ``FIXES``."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Any

FIXERS: dict[type, Callable[..., Any]] = {}


def _discover() -> list[ModuleType]:
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        FIXERS[module.FIXES] = module.apply
        modules.append(module)
    return modules


MODULES = _discover()
