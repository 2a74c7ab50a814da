"""URLconf of the load test's server: the fixture project's views, ``/load/stats/`` and
``/load/unattributed/<pk>/``.

The stats view is a sync view (it runs on a worker thread, so its ``gc.collect()`` does not
hold the event loop) that answers with what a leak would grow: memory, live objects, open
file descriptors, threads, and the guard's per-request and per-loop structures.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import threading
from collections import Counter

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from tests.guard.served import rss_kb


async def unattributed(request: HttpRequest, pk: int) -> JsonResponse:
    """Sync ORM on the event loop from code the guard treats as a library (this module is in
    ``ignore_modules``, as a third-party package would be): the report has no user frame."""
    from guard_app.models import Article

    article = Article.objects.get(pk=pk)
    return JsonResponse({"title": article.title})


def guard_state() -> dict[str, int]:
    """The guard's structures that must not grow with the number of requests served.

    Reaches into module internals on purpose: the guard exposes no statistics API, and a
    leak lives exactly there.
    """
    from runtime_guard import attribution, loop_monitor, n_plus_one, scope, unsafe_orm
    from runtime_guard.hops import Hop
    from runtime_guard.records import Record

    live: Counter[str] = Counter()
    for obj in gc.get_objects():
        if isinstance(obj, scope.GuardScope | Record | Hop):
            live[type(obj).__name__] += 1
    return {
        "active_scopes": scope._active,
        "live_scopes": live["GuardScope"],
        "live_records": live["Record"],
        "live_hops": live["Hop"],
        "loop_states": len(loop_monitor._states),
        "leave_hooks": len(scope.leave_hooks),
        "boundaries": len(attribution.boundaries),
        "shape_cache": len(n_plus_one._cache),
        "classifier_cache": len(attribution.classifier._cache),
        "warning_registry": len(getattr(unsafe_orm, "__warningregistry__", {})),
    }


def release_free_memory() -> None:
    """Give the allocator's free memory back to the system (glibc's ``malloc_trim``), so that
    RSS counts the memory held for live objects, not the high-water mark of freed ones."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: RSS keeps the free lists
        ctypes.CDLL(None).malloc_trim(0)


def stats(request: HttpRequest) -> JsonResponse:
    """Memory and guard state after a full garbage collection (``?trim=1``: and after
    :func:`release_free_memory`)."""
    gc.collect()
    if request.GET.get("trim"):
        release_free_memory()
    types = Counter(type(obj).__qualname__ for obj in gc.get_objects())
    return JsonResponse(
        {
            "rss_kb": rss_kb(),
            "objects": sum(types.values()),
            "allocated_blocks": sys.getallocatedblocks(),
            "fds": len(os.listdir("/proc/self/fd")),
            "threads": threading.active_count(),
            "guard": guard_state(),
            "types": dict(types.most_common(200)),
        }
    )


urlpatterns = [
    path("guard/", include("guard_app.urls")),
    path("load/stats/", stats),
    path("load/unattributed/<int:pk>/", unattributed),
]
