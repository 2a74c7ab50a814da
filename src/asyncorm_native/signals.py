"""Sending Django's model signals from native plans.

Stock a-methods run the sync method in ``sync_to_async``'s thread, where
``Signal.send()`` calls the sync receivers in order and then the async ones
concurrently (``async_to_sync`` back on the loop). The async driver keeps that
order: the sync receivers run in order, in ``sync_to_async``'s thread (the
one stock code runs them in, as ``Signal.asend()`` adapts them), then the
async receivers are awaited concurrently with ``asyncio.gather()``. With no
receivers (the common case) nothing is scheduled at all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from django.dispatch.dispatcher import NO_RECEIVERS

from .steps import Send


def has_receivers(signal: Any, sender: Any) -> bool:
    """Django's own fast check in ``Signal.send()``."""
    return bool(signal.receivers) and signal.sender_receivers_cache.get(sender) is not NO_RECEIVERS


async def send(step: Send) -> None:
    """The async driver's ``Send``: sync receivers via ``sync_to_async``, async ones awaited."""
    signal, sender, named = step.signal, step.sender, step.kwargs
    if not has_receivers(signal, sender):
        return
    sync_receivers, async_receivers = signal._live_receivers(sender)
    if sync_receivers:

        def call_sync_receivers() -> None:
            for receiver in sync_receivers:
                receiver(signal=signal, sender=sender, **named)

        await sync_to_async(call_sync_receivers)()
    if async_receivers:
        await asyncio.gather(
            *(receiver(signal=signal, sender=sender, **named) for receiver in async_receivers)
        )


async def send_sync(step: Send) -> None:
    """The sync driver's ``Send``: Django's ``Signal.send()`` (never suspends)."""
    step.signal.send(sender=step.sender, **step.kwargs)
