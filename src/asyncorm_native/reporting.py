"""What ran natively and what fell back to Django's stock method, and why.

Each fallback is counted by (method, kind) and logged once per kind at DEBUG
on the ``asyncorm_native`` logger. ``asyncorm_native.report()`` returns a
:class:`Report`; ``str(report)`` is a small table.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("asyncorm_native")

_native: Counter[str] = Counter()
_fallback: Counter[tuple[str, str]] = Counter()
_logged_kinds: set[str] = set()
_sessions: Counter[str] = Counter()  # "pool" / "caller transaction": where connections came from
#: ORM statements by route: "native" (a plan's step, either driver) or "stock" (Django's
#: compiler ran it: a fallback, or ORM code no route covers).
statements: Counter[str] = Counter()


def native(method: str) -> None:
    """Count one native run of ``method``."""
    _native[method] += 1


def fallback(method: str, kind: str) -> None:
    """Count one fallback of ``method`` to Django's stock method; log each new kind once."""
    _fallback[method, kind] += 1
    if kind not in _logged_kinds:
        _logged_kinds.add(kind)
        logger.debug("asyncorm_native: %s() runs Django's stock method: %s", method, kind)


def session(source: str) -> None:
    """Count one connection lease by its source ("pool" or "caller transaction")."""
    _sessions[source] += 1


def reset() -> None:
    """Forget all counts (and which kinds were logged)."""
    _native.clear()
    _fallback.clear()
    _logged_kinds.clear()
    _sessions.clear()
    statements.clear()


@dataclass(frozen=True)
class Report:
    """A snapshot of the counters."""

    installed: bool
    native: dict[str, int]
    fallback: dict[str, dict[str, int]]
    pools: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)
    statements: dict[str, int] = field(default_factory=dict)

    @property
    def native_share(self) -> float | None:
        """The share of ORM statements a plan ran (None before any statement)."""
        total = sum(self.statements.values())
        return self.statements.get("native", 0) / total if total else None

    @property
    def fallback_total(self) -> int:
        return sum(n for kinds in self.fallback.values() for n in kinds.values())

    def __str__(self) -> str:
        lines = [f"asyncorm_native: {'installed' if self.installed else 'not installed'}"]
        for method in sorted(set(self.native) | set(self.fallback)):
            lines.append(f"  {method:<28} native {self.native.get(method, 0):>6}")
            for kind, count in sorted(self.fallback.get(method, {}).items()):
                lines.append(f"  {'':<28} stock  {count:>6}  ({kind})")
        if self.native_share is not None:
            lines.append(
                f"  ORM statements: {self.statements.get('native', 0)} native, "
                f"{self.statements.get('stock', 0)} by Django's compiler "
                f"({self.native_share:.1%} native)"
            )
        for source, count in sorted(self.sessions.items()):
            lines.append(f"  connections from {source}: {count}")
        for alias, info in sorted(self.pools.items()):
            lines.append(
                f"  pool {alias!r} ({info['vendor']}): {info['size']} open, "
                f"{info['idle']} idle, max {info['max_size']}"
            )
        return "\n".join(lines)


def snapshot(installed: bool, pools: dict[str, dict[str, Any]]) -> Report:
    by_method: dict[str, dict[str, int]] = {}
    for (method, kind), count in _fallback.items():
        by_method.setdefault(method, {})[kind] = count
    return Report(
        installed=installed,
        native=dict(_native),
        fallback=by_method,
        pools=pools,
        sessions=dict(_sessions),
        statements=dict(statements),
    )
