"""The ``ASYNCORM_NATIVE`` setting, validated.

```python
ASYNCORM_NATIVE = {
    "INSTALL": True,                   # the app's ready() calls install()
    "DATABASES": None,                 # aliases to run natively; None = every supported one
    "POOL": {"max_size": 20},          # pool options for every alias
    "POOLS": {"replica": {"max_size": 50}},  # per-alias overrides
}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

SETTING = "ASYNCORM_NATIVE"
TOP_LEVEL_KEYS = frozenset({"INSTALL", "DATABASES", "POOL", "POOLS"})
#: Options passed to psycopg_pool.AsyncConnectionPool (SQLite pools use the first three).
POOL_KEYS = frozenset(
    {
        "min_size",
        "max_size",
        "timeout",
        "max_waiting",
        "max_lifetime",
        "max_idle",
        "reconnect_timeout",
        "num_workers",
    }
)
POOL_DEFAULTS: dict[str, Any] = {"min_size": 1, "max_size": 20, "timeout": 30.0}


@dataclass(frozen=True)
class NativeSettings:
    """The parsed setting."""

    install: bool
    databases: frozenset[str] | None
    pool: dict[str, Any]
    pools: dict[str, dict[str, Any]]

    def pool_options(self, alias: str) -> dict[str, Any]:
        """Pool options for ``alias``: defaults, then POOL, then POOLS[alias]."""
        options = {**POOL_DEFAULTS, **self.pool, **self.pools.get(alias, {})}
        if options["min_size"] > options["max_size"]:
            raise ImproperlyConfigured(
                f"{SETTING} pool for {alias!r}: min_size ({options['min_size']}) is larger "
                f"than max_size ({options['max_size']})."
            )
        return options


def _pool_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImproperlyConfigured(
            f"{SETTING}{where} must be a dict of pool options, not {value!r}."
        )
    unknown = set(value) - POOL_KEYS
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING}{where} has unknown option(s) {sorted(unknown)}; use {sorted(POOL_KEYS)}."
        )
    for key in ("min_size", "max_size"):
        if key in value and (not isinstance(value[key], int) or value[key] < 0):
            raise ImproperlyConfigured(f"{SETTING}{where}[{key!r}] must be a non-negative int.")
    if "max_size" in value and value["max_size"] < 1:
        raise ImproperlyConfigured(f"{SETTING}{where}['max_size'] must be at least 1.")
    if "timeout" in value and (
        not isinstance(value["timeout"], int | float) or value["timeout"] <= 0
    ):
        raise ImproperlyConfigured(f"{SETTING}{where}['timeout'] must be a positive number.")
    return dict(value)


def parse(raw: Any) -> NativeSettings:
    """Validate the raw setting value (None or missing means all defaults)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(f"{SETTING} must be a dict, not {type(raw).__name__}.")
    unknown = set(raw) - TOP_LEVEL_KEYS
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING} has unknown key(s) {sorted(unknown)}; use {sorted(TOP_LEVEL_KEYS)}."
        )
    install = raw.get("INSTALL", False)
    if not isinstance(install, bool):
        raise ImproperlyConfigured(f"{SETTING}['INSTALL'] must be True or False.")
    databases = raw.get("DATABASES")
    if databases is not None:
        if isinstance(databases, str) or not all(isinstance(a, str) for a in databases):
            raise ImproperlyConfigured(
                f"{SETTING}['DATABASES'] must be None or a list of database aliases."
            )
        databases = frozenset(databases)
    pool = _pool_dict(raw.get("POOL", {}), "['POOL']")
    pools_raw = raw.get("POOLS", {})
    if not isinstance(pools_raw, dict):
        raise ImproperlyConfigured(f"{SETTING}['POOLS'] must be a dict of alias -> pool options.")
    pools = {alias: _pool_dict(opts, f"['POOLS'][{alias!r}]") for alias, opts in pools_raw.items()}
    return NativeSettings(install=install, databases=databases, pool=pool, pools=pools)


_current: NativeSettings | None = None


def current() -> NativeSettings:
    """The setting as configured now (parsed once; :func:`reset` after a change)."""
    global _current
    if _current is None:
        from django.conf import settings

        _current = parse(getattr(settings, SETTING, None))
    return _current


def reset(**kwargs: Any) -> None:
    """Forget the parsed setting (also a ``setting_changed`` receiver)."""
    global _current
    if kwargs.get("setting", SETTING) == SETTING:
        _current = None


setting_changed.connect(reset, dispatch_uid="asyncorm_native.conf")
