"""Rewrite descriptions a rule attaches to a finding when the async form is equivalent.

Rules decide *where* and *what*; the codemod (``asyncorm_lint.fix``) does the editing.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True)
class AwaitMethod:
    """``recv.get(...)`` -> ``await recv.aget(...)``."""

    call: cst.Call
    new_name: str


@dataclass(frozen=True)
class AwaitFunction:
    """``authenticate(...)`` -> ``await aauthenticate(...)``; the import from ``module`` follows."""

    call: cst.Call
    new_name: str
    module: str
    old_name: str


@dataclass(frozen=True)
class AsyncFor:
    """``for x in qs:`` -> ``async for x in qs:`` (and ``qs.iterator()`` -> ``qs.aiterator()``)."""

    loop: cst.For | cst.CompFor


@dataclass(frozen=True)
class AsyncListComp:
    """``list(qs)`` -> ``[x async for x in qs]``."""

    call: cst.Call


@dataclass(frozen=True)
class WrapSyncToAsync:
    """``helper(args)`` -> ``await sync_to_async(helper)(args)``."""

    call: cst.Call
