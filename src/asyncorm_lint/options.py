"""Analysis options shared by the flake8 plugin, the CLI and the codemod."""

from __future__ import annotations

import dataclasses
import fnmatch
import os
from dataclasses import dataclass, field

from .config import Config
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
    # (glob, code prefixes) pairs; globs are matched against paths relative to ``base``.
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    base: str = ""

    def enabled(self, code: str) -> bool:
        if self.select and not code.startswith(self.select):
            return False
        return not (self.ignore and code.startswith(self.ignore))

    def ignored(self, code: str, path: str) -> bool:
        """True when the user asked to skip ``code`` here (``--ignore`` or a per-path ignore);
        ``--select`` does not count: for codes that must not vanish with it (DJA000)."""
        return bool(self.ignore and code.startswith(self.ignore)) or self.ignored_here(code, path)

    def ignored_here(self, code: str, path: str) -> bool:
        """True when a per-path ignore covers ``code`` in the file at ``path``."""
        if not self.per_path_ignores:
            return False
        relative = os.path.relpath(os.path.abspath(path), self.base or os.getcwd())
        relative = relative.replace(os.sep, "/")
        return any(
            fnmatch.fnmatch(relative, glob) and code.startswith(codes)
            for glob, codes in self.per_path_ignores
        )

    def with_config(self, config: Config) -> Options:
        """These options, completed by a pyproject.toml configuration."""
        return dataclasses.replace(
            self,
            django_version=config.django_version or self.django_version,
            wrappers=self.wrappers | frozenset(config.extra_async_wrappers),
            managers=self.managers | frozenset(config.extra_managers),
            per_path_ignores=config.per_path_ignores,
            base=str(config.path.parent) if config.path else self.base,
        )
