"""Errors the shim raises to its users."""

from __future__ import annotations

from django.db.utils import OperationalError


class PoolTimeout(OperationalError):
    """No connection could be taken from a native pool in time."""

    def __init__(self, alias: str, timeout: float, max_size: int) -> None:
        super().__init__(
            f"asyncorm_native: no connection from the {alias!r} pool within {timeout:g}s "
            f"(max_size={max_size}, all connections busy). Raise "
            f"ASYNCORM_NATIVE['POOLS'][{alias!r}]['max_size'] or ['timeout'], or run fewer "
            f"queries concurrently."
        )
        self.alias = alias
        self.timeout = timeout
        self.max_size = max_size
