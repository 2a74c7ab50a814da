"""The vocabulary between plans and drivers.

A *plan* is a generator that yields steps and receives their results, in the
style of ``psycopg/generators.py``: it never touches a socket. A *driver* runs
the plan on a real connection (psycopg pool, aiosqlite, or Django's own
connection) and sends each step's result back into the generator.

Reads need ``Execute`` (with a fetch mode), ``FetchMany`` and ``Close`` for
streamed cursors, and ``Emit`` to hand items to the caller while a stream is
open. Writes (issue 8) will add transaction steps (``Begin``, ``Savepoint``...)
next to these.
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


@dataclass(frozen=True, slots=True)
class Execute:
    """Run ``sql`` with ``params`` (Django's ``%s`` paramstyle) on database ``using``.

    ``describe=True`` (ALL only) makes the result ``(rows, column_names)``.
    ``server_side=True`` (STREAM only) asks for a server-side cursor where the
    backend has one, as Django's ``chunked_cursor()`` does.
    """

    sql: str
    params: Params
    fetch: Fetch = Fetch.ALL
    _: KW_ONLY
    using: str
    describe: bool = False
    server_side: bool = False


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


Step = Execute | FetchMany | Close | Emit
Plan = Generator[Step, Any, T]
