"""The guard's settings: ``settings.ASYNCORM_GUARD`` merged over defaults, validated once."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

Mode = Literal["warn", "raise", "log"]
MODES: tuple[str, ...] = ("warn", "raise", "log")

# Frames from these modules are never "the user's frame" (servers, clients, test runners).
DEFAULT_IGNORED_MODULES: tuple[str, ...] = (
    "uvicorn",
    "daphne",
    "hypercorn",
    "granian",
    "starlette",
    "channels",
    "httpx",
    "httpcore",
    "anyio",
    "sniffio",
    "h11",
    "pytest",
    "_pytest",
    "pluggy",
    "pytest_asyncio",
)


class GuardConfigurationError(ValueError):
    """``ASYNCORM_GUARD`` holds an unknown key or an invalid value."""


@dataclass(frozen=True)
class GuardSettings:
    """Validated guard settings; one instance per middleware, ASGI wrapper or test session.

    - ``mode``: ``warn`` (run the unsafe call, warn and log), ``raise`` (raise a
      ``SynchronousOnlyOperation`` naming location and fix) or ``log`` (log only);
    - ``slow_callback_ms``: report event-loop callbacks that run longer than this;
    - ``n_plus_one``: report a query shape repeated more than this many times per request;
    - ``header``: add the ``X-AsyncORM-Guard`` summary to responses (only while ``DEBUG``);
    - ``force``: run even when ``DEBUG`` is False;
    - ``ignore_modules``: more top-level modules whose frames are never the user's frame.
    """

    mode: Mode = "warn"
    slow_callback_ms: float = 100.0
    n_plus_one: int = 5
    header: bool = False
    force: bool = False
    ignore_modules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise GuardConfigurationError(
                f"ASYNCORM_GUARD['mode'] must be one of {', '.join(MODES)}, not {self.mode!r}"
            )
        if not isinstance(self.slow_callback_ms, int | float) or self.slow_callback_ms <= 0:
            raise GuardConfigurationError(
                f"ASYNCORM_GUARD['slow_callback_ms'] must be a positive number of milliseconds,"
                f" not {self.slow_callback_ms!r}"
            )
        if not isinstance(self.n_plus_one, int) or self.n_plus_one < 1:
            raise GuardConfigurationError(
                f"ASYNCORM_GUARD['n_plus_one'] must be a positive integer, not {self.n_plus_one!r}"
            )
        if isinstance(self.ignore_modules, str):
            raise GuardConfigurationError(
                "ASYNCORM_GUARD['ignore_modules'] must be a list of module names, not a string"
            )
        object.__setattr__(self, "ignore_modules", tuple(self.ignore_modules))

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> GuardSettings:
        """Build from an ``ASYNCORM_GUARD``-style dict; unknown keys are an error."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise GuardConfigurationError(
                f"unknown ASYNCORM_GUARD key(s) {', '.join(map(repr, unknown))};"
                f" valid keys: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def merged(self, **overrides: Any) -> GuardSettings:
        """A copy with ``overrides`` applied (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def header_enabled(self, debug: bool) -> bool:
        """Whether responses carry the summary header: asked for, and a debug server."""
        return bool(self.header) and debug


def django_configured() -> bool:
    """True when Django settings are (or can be) loaded."""
    try:
        from django.conf import settings
    except ImportError:
        return False
    return settings.configured or bool(os.environ.get("DJANGO_SETTINGS_MODULE"))


def from_django(**overrides: Any) -> GuardSettings:
    """Settings from ``settings.ASYNCORM_GUARD`` (defaults when Django is not configured)."""
    values: dict[str, Any] = {}
    if django_configured():
        from django.conf import settings

        values = dict(getattr(settings, "ASYNCORM_GUARD", None) or {})
    return GuardSettings.from_mapping(values).merged(**overrides)


def django_debug() -> bool:
    """``settings.DEBUG``, or True when Django is not configured (nothing says production)."""
    if not django_configured():
        return True
    from django.conf import settings

    return bool(settings.DEBUG)
