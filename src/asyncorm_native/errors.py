"""Errors the shim raises to its users."""

from __future__ import annotations

from django.db.utils import OperationalError


def _setting(alias: str, option: str) -> str:
    return f"ASYNCORM_NATIVE['POOLS'][{alias!r}][{option!r}]"


class PoolTimeout(OperationalError):
    """No connection could be taken from a native pool in time.

    Either every connection was busy, or (``connect_error``) the pool could not
    open one: the server is down, restarting or refusing connections.
    """

    def __init__(
        self,
        alias: str,
        timeout: float,
        max_size: int,
        connect_error: BaseException | None = None,
    ) -> None:
        if connect_error is None:
            message = (
                f"asyncorm_native: no connection from the {alias!r} pool within {timeout:g}s "
                f"(max_size={max_size}, all connections busy). Raise "
                f"{_setting(alias, 'max_size')} (now {max_size}) or "
                f"{_setting(alias, 'timeout')} (now {timeout:g}), or run fewer queries "
                f"concurrently: each query, unfinished aiterator() and open atomic() block "
                f"holds a connection."
            )
        else:
            message = (
                f"asyncorm_native: no connection from the {alias!r} pool within {timeout:g}s: "
                f"connecting to the database failed ({_first_line(connect_error)}). Check that "
                f"the server is up and that DATABASES[{alias!r}] reaches it; "
                f"{_setting(alias, 'timeout')} (now {timeout:g}) is how long a query waits "
                f"for the pool to reconnect."
            )
        super().__init__(message)
        self.alias = alias
        self.timeout = timeout
        self.max_size = max_size
        self.connect_error = connect_error


class PoolQueueFull(OperationalError):
    """Too many queries already wait for a connection of a native pool (``max_waiting``)."""

    def __init__(self, alias: str, max_waiting: int, max_size: int) -> None:
        super().__init__(
            f"asyncorm_native: {max_waiting} queries already wait for a connection of the "
            f"{alias!r} pool (max_size={max_size}). Raise {_setting(alias, 'max_waiting')} "
            f"(now {max_waiting}) or {_setting(alias, 'max_size')} (now {max_size}), or run "
            f"fewer queries concurrently."
        )
        self.alias = alias
        self.max_waiting = max_waiting
        self.max_size = max_size


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
