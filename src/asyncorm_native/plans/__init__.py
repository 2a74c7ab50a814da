"""I/O-free plans: one generator per read operation, yielding steps (see ``steps.py``).

Every plan reuses Django for everything but I/O: SQL comes from the query's own
compiler, rows become values through the compiler's converters and instances
through Django's iterable classes (``ModelIterable``...), ``Model.from_db`` and
``RelatedPopulator``. Where Django's orchestration interleaves logic and I/O
(``get()``, ``first()``, ``prefetch_related_objects()``...), the plan follows
Django 5.2's code line for line with the I/O replaced by a step; those mirrors
are marked ``Mirrors django...`` and proven by the differential tests and by
Django's own async test modules.
"""

from .errors import Unsupported

__all__ = ["Unsupported"]
