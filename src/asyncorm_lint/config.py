"""``[tool.asyncorm-lint]`` in pyproject.toml, read by the CLI and the flake8 plugin.

```toml
[tool.asyncorm-lint]
django-version = "5.0"
project-root = "."
extra-managers = ["published"]                      # attributes that are managers, like objects
extra-async-wrappers = ["myapp.utils.run_in_thread"]  # run their argument off the loop
per-path-ignores = { "tests/**" = ["DJA5"], "scripts/*.py" = ["DJA"] }
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .django_api import Version, parse_version

KEYS = (
    "django-version",
    "project-root",
    "extra-managers",
    "extra-async-wrappers",
    "per-path-ignores",
)


class ConfigError(Exception):
    """A bad configuration: one clear line naming the file and the key."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    django_version: Version | None = None
    project_root: Path | None = None
    extra_managers: tuple[str, ...] = ()
    extra_async_wrappers: tuple[str, ...] = ()
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.asyncorm-lint] table."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{candidate}: cannot read: {exc}") from None
            if "asyncorm-lint" in data.get("tool", {}):
                return candidate
    return None


def load_config(start: Path) -> Config:
    """The configuration that applies to ``start`` (empty when there is none)."""
    path = find_pyproject(start)
    if path is None:
        return Config()
    table = tomllib.loads(path.read_text("utf-8"))["tool"]["asyncorm-lint"]
    where = f"{path} [tool.asyncorm-lint]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    version = None
    if "django-version" in table:
        try:
            version = parse_version(str(table["django-version"]))
        except ValueError as exc:
            raise ConfigError(f"{where}: django-version: {exc}") from None
    root = None
    if "project-root" in table:
        root = (path.parent / _string(table["project-root"], where, "project-root")).resolve()
    ignores = table.get("per-path-ignores", {})
    if not isinstance(ignores, dict):
        raise ConfigError(f"{where}: per-path-ignores: expected a table of glob = [codes]")
    return Config(
        path=path,
        django_version=version,
        project_root=root,
        extra_managers=_strings(table.get("extra-managers", []), where, "extra-managers"),
        extra_async_wrappers=_strings(
            table.get("extra-async-wrappers", []), where, "extra-async-wrappers"
        ),
        per_path_ignores=tuple(
            (glob, tuple(c.upper() for c in _strings(codes, where, f"per-path-ignores.{glob}")))
            for glob, codes in ignores.items()
        ),
    )


def _string(value: object, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key}: expected a string, got {value!r}")
    return value


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key}: expected a list of strings, got {value!r}")
    return tuple(value)
