"""Which files a path argument names."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    "build",
    "dist",
    ".eggs",
    "site-packages",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".asyncorm_lint_cache",
}


def python_files(paths: list[str]) -> Iterator[Path]:
    """Every ``.py`` file under ``paths`` (files are taken as given), in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(
                    d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                )
                for name in sorted(files):
                    if name.endswith(".py"):
                        yield Path(root) / name
        else:
            yield path


def read_source(path: Path) -> str:
    """Text of a Python file honouring its PEP 263 encoding cookie."""
    import tokenize

    with tokenize.open(path) as handle:
        return handle.read()
