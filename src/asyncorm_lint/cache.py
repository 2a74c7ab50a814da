"""The on-disk summary cache: ``.asyncorm_lint_cache/`` under the project root.

One pickle per kind of summary, keyed by content hash. Safe under concurrent processes
(flake8 -j): writers take an exclusive lock, merge with what is on disk and replace the
file atomically. A cache that cannot be written is reported once and ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import __version__
from .findings import Finding

CACHE_DIR = ".asyncorm_lint_cache"


class SummaryCache:
    """``get``/``put`` summaries by (kind, key); ``flush`` writes what changed."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.enabled = enabled
        self.directory = root / CACHE_DIR / f"v{__version__}"
        self.loaded: dict[str, dict[str, Any]] = {}
        self.used: dict[str, set[str]] = {}
        self.dirty: set[str] = set()
        self.warned = False

    def _table(self, kind: str) -> dict[str, Any]:
        if kind not in self.loaded:
            self.loaded[kind] = self._read(kind) if self.enabled else {}
            self.used[kind] = set()
        return self.loaded[kind]

    def _read(self, kind: str) -> dict[str, Any]:
        try:
            with open(self.directory / f"{kind}.pickle", "rb") as handle:
                table = pickle.load(handle)
            return table if isinstance(table, dict) else {}
        except FileNotFoundError:
            return {}
        except Exception:  # a corrupt or foreign cache file is rebuilt, never trusted
            return {}

    def get(self, kind: str, key: str, module: str) -> Any:
        table = self._table(kind)
        full = f"{module}:{key}"
        if full in table:
            self.used[kind].add(full)
            return table[full]
        return None

    def put(self, kind: str, key: str, module: str, value: Any) -> None:
        table = self._table(kind)
        full = f"{module}:{key}"
        table[full] = value
        self.used[kind].add(full)
        self.dirty.add(kind)

    # --- findings: one small file per checked source (written by any process, no lock) --
    def findings_get(self, key: str) -> list[Finding] | None:
        if not self.enabled:
            return None
        try:
            with open(self.directory / "findings" / key, "rb") as handle:
                rows = pickle.load(handle)
            return [Finding(*row) for row in rows]
        except FileNotFoundError:
            return None
        except Exception:  # corrupt entry: recompute
            return None

    def findings_put(self, key: str, findings: list[Finding]) -> None:
        if not self.enabled:
            return
        rows = [(f.code, f.line, f.col, f.message, f.path, None, None, f.fixable) for f in findings]
        directory = self.directory / "findings"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._ignore_file()
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, directory / key)
        except OSError as exc:
            self._warn(exc)

    def _warn(self, exc: OSError) -> None:
        if not self.warned:
            self.warned = True
            print(f"asyncorm-lint: cache not written ({self.directory}): {exc}", file=sys.stderr)

    def _ignore_file(self) -> None:
        ignore = self.directory.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by asyncorm-lint\n*\n")

    def flush(self) -> None:
        if not self.enabled or not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._ignore_file()
            with open(self.directory / "lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    for kind in sorted(self.dirty):
                        self._write(kind)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        except OSError as exc:
            self._warn(exc)
        self.dirty.clear()

    def _write(self, kind: str) -> None:
        on_disk = self._read(kind)
        mine = {k: v for k, v in self.loaded[kind].items() if k in self.used[kind]}
        # Keep what other runs (other processes, other subsets of the tree) still use,
        # but drop entries for a module whose newer version we just wrote.
        modules = {k.split(":", 1)[0] for k in mine}
        merged = {k: v for k, v in on_disk.items() if k.split(":", 1)[0] not in modules}
        merged.update(mine)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(merged, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.directory / f"{kind}.pickle")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
