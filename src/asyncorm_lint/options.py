"""Analysis options shared by the flake8 plugin, the CLI and the codemod."""

from __future__ import annotations

from dataclasses import dataclass, field

from .django_api import LATEST_LTS, Version

DEFAULT_WRAPPERS: frozenset[str] = frozenset(
    {
        "asgiref.sync.sync_to_async",
        "asgiref.sync.SyncToAsync",
        "channels.db.database_sync_to_async",
        "asyncio.to_thread",
    }
)


@dataclass(frozen=True)
class Options:
    """What the analysis needs to know about the user's project."""

    django_version: Version = LATEST_LTS
    # Qualified names of callables that run their argument off the event loop.
    wrappers: frozenset[str] = DEFAULT_WRAPPERS
    # Extra manager attribute names treated like ``objects``.
    managers: frozenset[str] = field(default_factory=frozenset)
    select: tuple[str, ...] = ()  # code prefixes; empty = everything
    ignore: tuple[str, ...] = ()

    def enabled(self, code: str) -> bool:
        if self.select and not code.startswith(self.select):
            return False
        return not (self.ignore and code.startswith(self.ignore))
