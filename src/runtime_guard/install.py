"""Install the guard's observers once per process.

Every observer is inert outside a guard scope (a request seen by the middleware or the
ASGI wrapper, or a test under the pytest plugin): unguarded code behaves exactly as
without the guard.
"""

from __future__ import annotations

import threading

from runtime_guard import attribution, hops, loop_monitor, queries, unsafe_orm
from runtime_guard.settings import GuardSettings

_lock = threading.Lock()
_installed = False


def install(settings: GuardSettings) -> None:
    """Install the observers (idempotent); ``settings`` adds its threshold and ignored modules."""
    global _installed
    with _lock:
        attribution.classifier.add_modules(settings.ignore_modules)
        loop_monitor.install(settings.slow_callback_ms)
        if _installed:
            return
        unsafe_orm.install()
        hops.install()
        queries.install()
        _installed = True


def uninstall() -> None:
    """Remove every observer (tests, and code that wants the process back as it was)."""
    global _installed
    with _lock:
        unsafe_orm.uninstall()
        hops.uninstall()
        queries.uninstall()
        loop_monitor.uninstall()
        _installed = False
