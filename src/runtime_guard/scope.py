"""Guard scopes: one per request (or per test), found through a context variable.

Context variables follow a request into its tasks and, through asgiref's ``sync_to_async``
context copy, into worker threads, so a query on any thread is counted against the request
that ran it, and concurrent requests never see each other's records.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import Context, ContextVar, Token
from types import FrameType
from typing import Any, Literal

from runtime_guard import reporting
from runtime_guard.records import REQUEST_SUMMARY, Record, RecordKind
from runtime_guard.settings import GuardSettings

ScopeKind = Literal["request", "test"]

_current: ContextVar[GuardScope | None] = ContextVar("runtime_guard_scope", default=None)
_fallback: GuardScope | None = None  # the pytest plugin's per-test scope
_ids = itertools.count(1)
_active = 0  # scopes entered and not yet left, in any thread (plus the fallback)
# Called with the scope just before it is left (the loop monitor's last look at it).
leave_hooks: list[Callable[[GuardScope], None]] = []


_lock = threading.Lock()  # one lock for every scope: the critical sections are tiny
_NO_RECORDS: tuple[Record, ...] = ()


class GuardScope:
    """What the guard saw during one request or test: counters and records.

    Containers are created on first use: most requests find nothing, and the scope is
    made for every request.
    """

    __slots__ = (
        "_absorbed",
        "_blocked",
        "_n_plus_one",
        "_violations",
        "blocked_ms",
        "data",
        "finished",
        "hop_ms",
        "hops",
        "id",
        "kind",
        "label",
        "last_entry_frame",
        "on_finish",
        "parent",
        "queries",
        "query_ms",
        "settings",
        "shapes",
        "started",
    )

    def __init__(
        self,
        settings: GuardSettings,
        label: str,
        kind: ScopeKind = "request",
        parent: GuardScope | None = None,
    ) -> None:
        self.id = next(_ids)
        self.settings = settings
        self.label = label
        self.kind = kind
        self.parent = parent
        self.finished = False
        self.started = time.perf_counter()
        self.hops = self.queries = 0
        self.hop_ms = self.query_ms = self.blocked_ms = 0.0
        self._violations: dict[tuple[str, str, str], Record] | None = None
        self._n_plus_one: dict[str, Record] | None = None
        self._blocked: list[Record] | None = None
        self._absorbed: list[Record] | None = None  # findings of finished child scopes
        self.shapes: dict[str, int] | None = None
        self.last_entry_frame: FrameType | None = None
        self.on_finish: list[Callable[[GuardScope], None]] | None = None  # observers' cleanups
        self.data: dict[str, Any] = {}  # observers' per-scope state

    # --- counters ----------------------------------------------------------------------------
    def add_hop(self, duration_ms: float) -> None:
        with _lock:
            self.hops += 1
            self.hop_ms += duration_ms

    def add_query(self, duration_ms: float, shape: str | None) -> int:
        """Count one query; return how often its shape has run in this scope (0: no shape)."""
        with _lock:
            self.queries += 1
            self.query_ms += duration_ms
            if shape is None:
                return 0
            if self.shapes is None:
                self.shapes = {}
            seen = self.shapes[shape] = self.shapes.get(shape, 0) + 1
            record = self._n_plus_one.get(shape) if self._n_plus_one else None
            if record is not None:
                record.count = seen
                record.message = record.data["_template"].format(count=seen)
            return seen

    def add_blocked(self, record: Record) -> None:
        with _lock:
            self.blocked_ms += record.duration_ms or 0.0
            if self._blocked is None:
                self._blocked = []
            self._blocked.append(record)

    def add_cleanup(self, callback: Callable[[GuardScope], None]) -> None:
        """Run ``callback(scope)`` when the scope finishes."""
        if self.on_finish is None:
            self.on_finish = []
        self.on_finish.append(callback)

    # --- findings ----------------------------------------------------------------------------
    @property
    def violations(self) -> dict[tuple[str, str, str], Record]:
        return self._violations or {}

    @property
    def n_plus_one(self) -> dict[str, Record]:
        return self._n_plus_one or {}

    @property
    def blocked(self) -> list[Record]:
        return self._blocked or []

    def violation(self, key: tuple[str, str, str], entry_frame: FrameType) -> Record | None:
        """The record already made for this call or location, counting a new occurrence."""
        with _lock:
            record = self._violations.get(key) if self._violations else None
            if record is not None and self.last_entry_frame is not entry_frame:
                record.count += 1
            self.last_entry_frame = entry_frame
            return record

    def add_violation(self, key: tuple[str, str, str], record: Record) -> None:
        with _lock:
            if self._violations is None:
                self._violations = {}
            self._violations[key] = record

    def add_n_plus_one(self, shape: str, record: Record) -> bool:
        """Keep the first N+1 record of ``shape`` (its message a template on ``count``)."""
        with _lock:
            if self._n_plus_one is None:
                self._n_plus_one = {}
            if shape in self._n_plus_one:
                return False
            record.count = (self.shapes or {}).get(shape, 0)
            record.message = record.data["_template"].format(count=record.count)
            self._n_plus_one[shape] = record
            return True

    def absorb(self, child: GuardScope, findings: list[Record]) -> None:
        """Take a finished child scope's findings and counters."""
        with _lock:
            if findings:
                if self._absorbed is None:
                    self._absorbed = []
                self._absorbed.extend(findings)
            self.hops += child.hops
            self.queries += child.queries
            self.blocked_ms += child.blocked_ms

    def findings(self) -> list[Record]:
        """Violations, N+1 and blocked-loop records, this scope's and its finished children's."""
        if not (self._violations or self._n_plus_one or self._blocked or self._absorbed):
            return []
        with _lock:
            return [
                *(self._violations or {}).values(),
                *(self._n_plus_one or {}).values(),
                *(self._blocked or _NO_RECORDS),
                *(self._absorbed or _NO_RECORDS),
            ]

    def violation_count(self) -> int:
        """Occurrences of sync ORM use on the loop (a record counts each repeat)."""
        if not self._violations and not self._absorbed:
            return 0
        return sum(r.count for r in self.findings() if r.kind is RecordKind.VIOLATION)

    def header(self) -> str:
        """The ``X-AsyncORM-Guard`` summary."""
        return (
            f"hops={self.hops} queries={self.queries} blocked_ms={self.blocked_ms:.0f}"
            f" violations={self.violation_count()}"
            f" n_plus_one={len(self._n_plus_one) if self._n_plus_one else 0}"
        )

    # --- end ------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Close the scope: final N+1 counts, the summary record, hand findings to the parent."""
        if self.finished:
            return
        self.finished = True
        self.last_entry_frame = None
        if self.on_finish:
            for callback in self.on_finish:
                callback(self)
        if self._n_plus_one:
            for record in self._n_plus_one.values():
                reporting.log(record)
        findings = self.findings()
        level = logging.INFO if findings else logging.DEBUG
        if self.kind == "request" and reporting.logger.isEnabledFor(level):
            summary = Record(
                kind=RecordKind.REQUEST,
                code=REQUEST_SUMMARY,
                message=f"{self.label}: {self.header()}",
                request_id=self.id,
                request_path=self.label,
                queries=self.queries,
                duration_ms=(time.perf_counter() - self.started) * 1000,
                mode=self.settings.mode,
                data={
                    "hops": self.hops,
                    "hop_ms": round(self.hop_ms, 3),
                    "query_ms": round(self.query_ms, 3),
                    "blocked_ms": round(self.blocked_ms, 3),
                    "violations": self.violation_count(),
                    "n_plus_one": len(self.n_plus_one),
                },
            )
            reporting.log(summary, level)
        if self.parent is not None and not self.parent.finished:
            self.parent.absorb(self, findings)


def current() -> GuardScope | None:
    """The scope of the running request or test, if any."""
    return _current.get() or _fallback


def in_context(context: Context) -> GuardScope | None:
    """The scope visible in ``context`` (a task's or a callback's context)."""
    return context.get(_current) or _fallback


def enter(scope: GuardScope) -> Token[GuardScope | None]:
    """Make ``scope`` current in this context; pair with :func:`leave`."""
    global _active
    with _lock:
        _active += 1
    return _current.set(scope)


def leave(scope: GuardScope, token: Token[GuardScope | None]) -> None:
    """Undo :func:`enter` and finish ``scope``."""
    global _active
    with _lock:
        _active -= 1
    try:
        for hook in leave_hooks:
            hook(scope)
    finally:
        _current.reset(token)
        scope.finish()


@contextmanager
def activate(scope: GuardScope) -> Iterator[GuardScope]:
    """Make ``scope`` current in this context; finish it on exit (exceptions pass through)."""
    token = enter(scope)
    try:
        yield scope
    finally:
        leave(scope, token)


def set_fallback(scope: GuardScope | None) -> None:
    """Scope used where no context variable is set (the pytest plugin's current test)."""
    global _fallback
    _fallback = scope
