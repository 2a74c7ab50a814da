"""One record type for everything the guard reports, and the guard's own codes.

Sync-ORM violations carry the DJA code of the fact they break (``asyncorm_lint.django_api``),
so a runtime report and a lint finding name the same code and the same fix. Reports that
have no lint counterpart use the guard's ``DJG`` codes below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RecordKind(StrEnum):
    """What a record reports."""

    VIOLATION = "violation"  # sync ORM on the event-loop thread
    N_PLUS_ONE = "n_plus_one"  # one query shape repeated in a request
    BLOCKED = "blocked"  # an event-loop callback ran over the threshold
    HOP = "hop"  # one sync_to_async call (informational)
    REQUEST = "request"  # per-request summary (informational)


# The guard's own codes (no static counterpart).
UNMAPPED_SYNC_ACCESS = "DJG001"  # sync database access on the loop we cannot name more precisely
N_PLUS_ONE = "DJG002"
LOOP_BLOCKED = "DJG003"
THREAD_HOP = "DJG010"
REQUEST_SUMMARY = "DJG000"

GUARD_CODES: dict[str, str] = {
    UNMAPPED_SYNC_ACCESS: "sync database access on the event loop (no more specific fact)",
    N_PLUS_ONE: "the same query shape repeated more than n_plus_one times in one request",
    LOOP_BLOCKED: "an event-loop callback held the loop longer than slow_callback_ms",
    THREAD_HOP: "a sync_to_async thread hop (informational)",
    REQUEST_SUMMARY: "per-request summary (informational)",
}

# The structured fields every record puts into a log record's ``extra``.
EXTRA_FIELDS: tuple[str, ...] = (
    "kind",
    "code",
    "file",
    "line",
    "function",
    "operation",
    "replacement",
    "request_id",
    "request_path",
    "count",
    "duration_ms",
    "queries",
    "sql",
    "thread_name",
    "mode",
)


@dataclass(frozen=True)
class Location:
    """A frame in the user's code: what the report points at."""

    file: str
    line: int
    function: str
    is_async: bool = False

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Record:
    """One report. ``count`` grows when the same thing recurs in the same request."""

    kind: RecordKind
    code: str
    message: str
    operation: str = ""
    replacement: str = ""
    location: Location | None = None
    request_id: int | None = None
    request_path: str | None = None
    count: int = 1
    duration_ms: float | None = None
    queries: int | None = None
    sql: str | None = None
    thread: str | None = None
    mode: str | None = None
    # kind-specific fields, merged into extra (keys starting with "_" stay private)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``file:line`` or ``?`` when no user frame was found."""
        return str(self.location) if self.location else "?"

    def extra(self) -> dict[str, Any]:
        """The structured ``extra`` for a ``logging`` call (flat, JSON-serialisable)."""
        loc = self.location
        return {
            "kind": self.kind.value,
            "code": self.code,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "function": loc.function if loc else None,
            "operation": self.operation,
            "replacement": self.replacement,
            "request_id": self.request_id,
            "request_path": self.request_path,
            "count": self.count,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 3),
            "queries": self.queries,
            "sql": self.sql,
            "thread_name": self.thread,
            "mode": self.mode,
            **{k: v for k, v in self.data.items() if not k.startswith("_")},
        }
