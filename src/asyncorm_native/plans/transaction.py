"""Django's transaction context managers and signal sends, as plan steps.

``with transaction.atomic(using, savepoint=...)`` around a block of Django's
write code becomes :func:`atomic` around a sub-plan; ``with
transaction.mark_for_rollback_on_error(using)`` becomes
:func:`mark_for_rollback_on_error`; ``signal.send(sender, **kwargs)`` becomes
:func:`send`. The driver performs the steps on the connection the plan runs on.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..signals import has_receivers
from ..steps import BeginAtomic, EndAtomic, MarkRollback, Plan, Send

T = TypeVar("T")


def atomic(using: str, body: Plan[T], *, savepoint: bool = True, durable: bool = False) -> Plan[T]:
    """``with transaction.atomic(using, savepoint, durable): return body``."""
    handle = yield BeginAtomic(using, savepoint, durable)
    try:
        result = yield from body
    except GeneratorExit:  # closed by the driver, which leaves the open blocks itself
        raise
    except BaseException as exc:
        yield EndAtomic(handle, exc)
        raise
    yield EndAtomic(handle, None)
    return result


def mark_for_rollback_on_error(using: str, body: Plan[T]) -> Plan[T]:
    """``with transaction.mark_for_rollback_on_error(using): return body``."""
    try:
        return (yield from body)
    except GeneratorExit:
        raise
    except Exception:
        yield MarkRollback(using)
        raise


def send(signal: Any, sender: Any, **kwargs: Any) -> Plan[None]:
    """``signal.send(sender=sender, **kwargs)`` (no step at all without receivers)."""
    if has_receivers(signal, sender):
        yield Send(signal, sender, kwargs)
