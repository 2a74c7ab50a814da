"""Django's ``timestamptz`` loader, with psycopg's compiled parser.

Django loads ``timestamptz`` with ``BaseTzLoader`` (``psycopg_any``): psycopg's
pure-Python ``TimestamptzLoader.load()`` (a regular expression and arithmetic
in Python, ~4 µs a value), then ``.replace(tzinfo=<Django's timezone>)``.
psycopg ships the same parser compiled (``psycopg_binary``/``psycopg_c``), and
substitutes it for its own Python loader itself; it cannot do so for Django's
subclass. :func:`tzloader` gives a loader that parses with the compiled
class and applies Django's ``replace()``: the same value, tzinfo object and
errors. Whatever the compiled parser refuses (BC dates, ``infinity``, a value
out of Python's range) goes to Django's loader itself, which raises its own
error; on a connection whose ``DateStyle`` is not ISO the whole load is Django's.
``tests/native/test_pgtypes.py`` compares both loaders value by value.
"""

from __future__ import annotations

import functools
from typing import Any

import psycopg
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid

#: psycopg's compiled text loader; the Python one when psycopg has no C extension.
CompiledTimestamptzLoader: type = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
HAS_COMPILED = CompiledTimestamptzLoader is not PythonTimestamptzLoader


def _iso_datestyle(loader: Any) -> bool:
    conn = loader.connection
    if conn is None:
        return True  # psycopg's default when there is no connection
    style = conn.pgconn.parameter_status(b"DateStyle")
    return style is None or style.startswith(b"I")


class FastTzLoader(BaseTzLoader):
    """Django's ``BaseTzLoader`` (same ``timezone`` attribute), parsing with compiled code."""

    timezone = None

    def __init__(self, oid: int, context: Any = None) -> None:
        # psycopg's Loader.__init__ only: the Python parser's own setup runs when needed.
        # (Keep no reference to ``context``, the cursor's transformer, which holds its
        # loaders: a cycle would leave each cursor to the garbage collector.)
        Loader.__init__(self, oid, context)
        self._django_ready = False
        self._compiled = (
            CompiledTimestamptzLoader(oid, context).load if _iso_datestyle(self) else None
        )

    def load(self, data: Any) -> Any:
        if self._compiled is not None:
            try:
                value = self._compiled(data)
            except Exception:
                pass  # Django's loader below raises its own error (or answers)
            else:
                tz = self.timezone
                # replace() with the very tzinfo the value has gives an equal copy
                return value if value.tzinfo is tz else value.replace(tzinfo=tz)
        if not self._django_ready:  # set up as Django's loader is, then load as it does
            PythonTimestamptzLoader.__init__(self, self.oid, _Context(self.connection))
            self._django_ready = True
        return BaseTzLoader.load(self, data)


class _Context:
    """What psycopg's ``Loader.__init__`` reads of its context: the connection."""

    __slots__ = ("connection",)

    def __init__(self, connection: Any) -> None:
        self.connection = connection


@functools.cache
def tzloader(tz: Any) -> type[FastTzLoader]:
    """The fast twin of Django's ``register_tzloader(tz, ...)`` loader class."""
    return type("SpecificTzLoader", (FastTzLoader,), {"timezone": tz, "__module__": __name__})


def register_tzloader(tz: Any, context: Any) -> None:
    """Django's ``register_tzloader()``, with the fast loader (when psycopg is compiled)."""
    if HAS_COMPILED:
        context.adapters.register_loader("timestamptz", tzloader(tz))
    else:
        from django.db.backends.postgresql.psycopg_any import register_tzloader as django_register

        django_register(tz, context)
