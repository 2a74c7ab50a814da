"""The vocabulary between plans and drivers.

A *plan* is a generator that yields steps and receives their results, in the
style of ``psycopg/generators.py``: it never touches a socket. A *driver* runs
the plan on a real connection (psycopg pool, aiosqlite, or Django's own
connection) and sends each step's result back into the generator.

Reads need ``Execute`` (with a fetch mode), ``FetchMany`` and ``Close`` for
streamed cursors, and ``Emit`` to hand items to the caller while a stream is
open. Writes add ``Fetch.ROWCOUNT``/``NONE``/``LASTROWID``, ``Send`` (a model
signal), and the transaction steps ``BeginAtomic``/``EndAtomic``/``MarkRollback``,
which the driver performs as Django's ``transaction.atomic()`` and
``mark_for_rollback_on_error()`` would on the connection the plan runs on.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, TypeVar

T = TypeVar("T")

Params = Sequence[Any] | Mapping[str, Any] | None
Row = tuple[Any, ...]


class Fetch(enum.Enum):
    """What an ``Execute`` step returns."""

    ALL = "all"  # list of rows
    ONE = "one"  # first row or None (Django's SINGLE result type)
    STREAM = "stream"  # nothing: the cursor stays open for FetchMany/Close
    ROWCOUNT = "rowcount"  # the cursor's rowcount (Django's ROW_COUNT result type)
    NONE = "none"  # nothing (Django's NO_RESULTS)
    LASTROWID = "lastrowid"  # the cursor's lastrowid (Django's last_insert_id() on SQLite)


@dataclass(frozen=True, slots=True)
class Execute:
    """Run ``sql`` with ``params`` (Django's ``%s`` paramstyle) on database ``using``.

    ``describe=True`` (ALL only) makes the result ``(rows, column_names)``.
    ``server_side=True`` (STREAM only) asks for a server-side cursor where the
    backend has one, as Django's ``chunked_cursor()`` does. ``write=True`` marks a
    statement that changes data but returns rows (``INSERT ... RETURNING``).
    """

    sql: str
    params: Params
    fetch: Fetch = Fetch.ALL
    _: KW_ONLY
    using: str
    describe: bool = False
    server_side: bool = False
    write: bool = False


@dataclass(frozen=True, slots=True)
class FetchMany:
    """Fetch up to ``size`` rows from the open stream; ``[]`` when exhausted."""

    size: int


@dataclass(frozen=True, slots=True)
class Close:
    """Close the open stream (a no-op when none is open)."""


@dataclass(frozen=True, slots=True)
class Emit:
    """Hand ``items`` to the caller of a streaming plan; the result sent back is None."""

    items: Sequence[Any]


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``signal`` from ``sender`` with ``kwargs``, as Django's model code sends it."""

    signal: Any
    sender: Any
    kwargs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BeginAtomic:
    """Enter ``transaction.atomic(using, savepoint, durable)``; the result is a handle."""

    using: str
    savepoint: bool = True
    durable: bool = False


@dataclass(frozen=True, slots=True)
class EndAtomic:
    """Leave the atomic block ``handle``: commit/release, or roll back when ``error`` is set."""

    handle: Any
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class MarkRollback:
    """Django's ``mark_for_rollback_on_error()`` after an error: mark the open block, if any."""

    using: str


Step = Execute | FetchMany | Close | Emit | Send | BeginAtomic | EndAtomic | MarkRollback
Plan = Generator[Step, Any, T]
