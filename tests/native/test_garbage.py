"""Native reads leave no reference cycles behind: each query's objects are freed at once.

A cycle per query (a loader holding its cursor's transformer, say) hands every
cursor, result and row to the cyclic garbage collector, which then runs often
and walks large heaps: a slowdown no functional test sees. Counted, not timed.
"""

from __future__ import annotations

import gc

from .zoo.models import Author, Book

CALLS = 200


async def test_no_cycles_per_read(alias: str, native: None) -> None:
    pks = [a.pk async for a in Author.objects.using(alias).order_by("pk")]
    author = await Author.objects.using(alias).aget(pk=pks[0])

    async def reads() -> None:
        for i in range(CALLS):
            await Author.objects.using(alias).aget(pk=pks[i % len(pks)])
            [book async for book in Book.objects.using(alias).filter(author=author)]
            await Author.objects.using(alias).filter(rating__gte=2).afirst()

    await reads()  # warm: pools, statements, prepared statements
    gc.collect()
    gc.disable()
    try:
        await reads()
        garbage = gc.collect()
    finally:
        gc.enable()
    assert garbage < CALLS // 4, f"{garbage} objects in reference cycles after {CALLS} x 3 reads"
