"""Native-async shim: run Django's a-prefixed ORM methods on async database drivers.

```python
import asyncorm_native
asyncorm_native.install()          # or INSTALLED_APPS + ASYNCORM_NATIVE = {"INSTALL": True}
obj = await Article.objects.aget(pk=1)    # psycopg 3 pool / aiosqlite, no thread hop
async with asyncorm_native.atomic():      # a native transaction, pinned to this task
    await Article.objects.acreate(title="t")
    asyncorm_native.on_commit(notify)
await asyncorm_native.close_pools()
print(asyncorm_native.report())
```

Importing this package does not import Django; the functions below do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reporting import Report

__all__ = [
    "aprefetch_related_objects",
    "atomic",
    "close_pools",
    "install",
    "is_installed",
    "on_commit",
    "report",
    "reset_report",
    "uninstall",
]


def install(sync: bool = False) -> None:
    """Run Django's a-methods (querysets, managers, model and related-manager writes) natively.

    ``sync=True`` also routes Django's sync ORM methods (iteration, ``get()``,
    ``save()``...) through the same plans on Django's own connection.
    """
    from .patching import install as _install

    _install(sync)


def uninstall() -> None:
    """Restore Django's stock a-methods."""
    from .patching import uninstall as _uninstall

    _uninstall()


def is_installed() -> bool:
    from .patching import is_installed as _is_installed

    return _is_installed()


async def close_pools() -> None:
    """Close the native connection pools of the running event loop."""
    from .pools import close_pools as _close_pools

    await _close_pools()


async def aprefetch_related_objects(model_instances: Any, *related_lookups: Any) -> None:
    """Prefetch natively (works whether or not ``install()`` was called)."""
    from .patching import aprefetch_related_objects as _prefetch

    await _prefetch(model_instances, *related_lookups)


def report() -> Report:
    """Native and fallback counts per method (with fallback reasons) and pool sizes."""
    from . import patching, pools, reporting

    return reporting.snapshot(patching.is_installed(), pools.stats())


def reset_report() -> None:
    """Zero the counters behind :func:`report`."""
    from . import reporting

    reporting.reset()


def __getattr__(name: str) -> Any:
    """``atomic`` and ``on_commit`` import Django: loaded on first use."""
    if name in ("atomic", "on_commit"):
        from . import transactions

        return getattr(transactions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
