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
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import Context, ContextVar
from types import FrameType
from typing import Any, Literal

from runtime_guard import reporting
from runtime_guard.records import REQUEST_SUMMARY, Record, RecordKind
from runtime_guard.settings import GuardSettings

ScopeKind = Literal["request", "test", "block"]

_current: ContextVar[GuardScope | None] = ContextVar("runtime_guard_scope", default=None)
_fallback: GuardScope | None = None  # the pytest plugin's per-test scope
_ids = itertools.count(1)


class GuardScope:
    """What the guard saw during one request or test: counters and records."""

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
        self.hops = 0
        self.hop_ms = 0.0
        self.queries = 0
        self.query_ms = 0.0
        self.blocked_ms = 0.0
        self.violations: dict[tuple[str, str, str], Record] = {}
        self.n_plus_one: dict[str, Record] = {}
        self.blocked: list[Record] = []
        self.absorbed: list[Record] = []  # findings of finished child scopes
        self.shapes: Counter[str] = Counter()
        self.last_entry_frame: FrameType | None = None
        self.on_finish: list[Callable[[GuardScope], None]] = []  # observers' cleanups
        self.data: dict[str, Any] = {}  # observers' per-scope state
        self._lock = threading.Lock()

    # --- counters ----------------------------------------------------------------------------
    def add_hop(self, duration_ms: float) -> None:
        with self._lock:
            self.hops += 1
            self.hop_ms += duration_ms

    def add_query(self, duration_ms: float, shape: str | None) -> int:
        """Count one query; return how often its shape has run in this scope (0: no shape)."""
        with self._lock:
            self.queries += 1
            self.query_ms += duration_ms
            if shape is None:
                return 0
            self.shapes[shape] += 1
            seen = self.shapes[shape]
            record = self.n_plus_one.get(shape)
            if record is not None:
                record.count = seen
                record.message = record.data["_template"].format(count=seen)
            return seen

    def add_blocked(self, record: Record) -> None:
        with self._lock:
            self.blocked_ms += record.duration_ms or 0.0
            self.blocked.append(record)

    # --- findings ----------------------------------------------------------------------------
    def violation(self, key: tuple[str, str, str], entry_frame: FrameType) -> Record | None:
        """The record already made for this call or location, counting a new occurrence."""
        with self._lock:
            record = self.violations.get(key)
            if record is not None and self.last_entry_frame is not entry_frame:
                record.count += 1
            self.last_entry_frame = entry_frame
            return record

    def add_violation(self, key: tuple[str, str, str], record: Record) -> None:
        with self._lock:
            self.violations[key] = record

    def add_n_plus_one(self, shape: str, record: Record) -> bool:
        """Keep the first N+1 record of ``shape`` (its message a template on ``count``)."""
        with self._lock:
            if shape in self.n_plus_one:
                return False
            record.count = self.shapes[shape]
            record.message = record.data["_template"].format(count=record.count)
            self.n_plus_one[shape] = record
            return True

    def findings(self) -> list[Record]:
        """Violations, N+1 and blocked-loop records, this scope's and its finished children's."""
        with self._lock:
            return [*self.violations.values(), *self.n_plus_one.values(), *self.blocked,
                    *self.absorbed]

    def violation_count(self) -> int:
        """Occurrences of sync ORM use on the loop (a record counts each repeat)."""
        return sum(r.count for r in self.findings() if r.kind is RecordKind.VIOLATION)

    def header(self) -> str:
        """The ``X-AsyncORM-Guard`` summary."""
        return (
            f"hops={self.hops} queries={self.queries} blocked_ms={round(self.blocked_ms)}"
            f" violations={self.violation_count()} n_plus_one={len(self.n_plus_one)}"
        )

    # --- end ------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Close the scope: final N+1 counts, the summary record, hand findings to the parent."""
        if self.finished:
            return
        self.finished = True
        self.last_entry_frame = None
        for callback in self.on_finish:
            callback(self)
        for record in self.n_plus_one.values():
            reporting.log(record)
        findings = self.findings()
        if self.kind == "request":
            summary = Record(
                kind=RecordKind.REQUEST,
                code=REQUEST_SUMMARY,
                message=f"{self.label}: {self.header()}",
                request_id=self.id,
                request_path=self.label,
                queries=self.queries,
                duration_ms=(time.perf_counter() - self.started) * 1000,
                mode=self.settings.mode,
                data={"hops": self.hops, "hop_ms": round(self.hop_ms, 3),
                      "query_ms": round(self.query_ms, 3),
                      "blocked_ms": round(self.blocked_ms, 3),
                      "violations": self.violation_count(),
                      "n_plus_one": len(self.n_plus_one)},
            )
            reporting.log(summary, logging.INFO if findings else logging.DEBUG)
        if self.parent is not None and not self.parent.finished:
            with self.parent._lock:
                self.parent.absorbed.extend(findings)
                self.parent.hops += self.hops
                self.parent.queries += self.queries
                self.parent.blocked_ms += self.blocked_ms


def current() -> GuardScope | None:
    """The scope of the running request or test, if any."""
    return _current.get() or _fallback


def in_context(context: Context) -> GuardScope | None:
    """The scope visible in ``context`` (a task's or a callback's context)."""
    return context.get(_current) or _fallback


@contextmanager
def activate(scope: GuardScope) -> Iterator[GuardScope]:
    """Make ``scope`` current in this context; finish it on exit (exceptions pass through)."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
        scope.finish()


def set_fallback(scope: GuardScope | None) -> None:
    """Scope used where no context variable is set (the pytest plugin's current test)."""
    global _fallback
    _fallback = scope
