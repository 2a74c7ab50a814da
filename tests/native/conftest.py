"""Fixtures for the native shim: committed zoo data, and switching the shim on and off.

The native pools use their own connections, so the zoo's rows are committed
once per session (not inside a test transaction) and deleted at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import django
import pytest

# The zoo's models are imported by the test modules at collection time.
django.setup()


@pytest.fixture(scope="session")
def zoo(django_databases: set[str]) -> Iterator[set[str]]:
    """Load the zoo into every usable test database; yield the aliases."""
    from asgiref.sync import SyncToAsync
    from django.db import connections
    from django.test import override_settings

    from tests.native.zoo import data

    pools = override_settings(
        ASYNCORM_NATIVE={"POOL": {"min_size": 1, "max_size": 8, "timeout": 10}}
    )
    pools.enable()
    for alias in sorted(django_databases):
        data.load(alias)
    try:
        yield django_databases
    finally:
        pools.disable()
        for alias in sorted(django_databases):
            data.unload(alias)
        # Stock a-methods ran in asgiref's worker thread: close its connections too,
        # or the test databases cannot be dropped.
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture
def alias(db_alias: str, zoo: set[str]) -> str:
    """A zoo database alias (sqlite / postgres)."""
    return db_alias


@pytest.fixture
async def native() -> AsyncIterator[None]:
    """The shim installed with fresh counters; uninstalled and pools closed afterwards."""
    import asyncorm_native

    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        yield
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
