"""Attribute a report to the user's code: the first frame outside Django, asgiref, the guard,
the standard library and the servers/test runners around them.
"""

from __future__ import annotations

import importlib.util
import os
import sysconfig
from collections.abc import Iterable
from types import CodeType, FrameType

from runtime_guard.records import Location
from runtime_guard.settings import DEFAULT_IGNORED_MODULES

_MAX_DEPTH = 300


def _module_roots(names: Iterable[str]) -> list[str]:
    """Directory (package) or file (module) of each importable top-level module."""
    roots: list[str] = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            roots.extend(os.path.join(p, "") for p in spec.submodule_search_locations)
        elif spec.origin and spec.origin not in ("built-in", "frozen"):
            roots.append(spec.origin)
    return roots


class Classifier:
    """Decides, per code object (cached), whether a frame is library code."""

    def __init__(self, extra_modules: Iterable[str] = ()) -> None:
        self._prefixes: tuple[str, ...] = ()
        self._stdlib: tuple[str, ...] = ()
        self._modules: set[str] = set()
        self._cache: dict[CodeType, bool] = {}
        self.add_modules(("django", "asgiref", "runtime_guard", *DEFAULT_IGNORED_MODULES))
        self.add_modules(extra_modules)
        paths = sysconfig.get_paths()
        self._stdlib = tuple(
            {os.path.join(os.path.realpath(paths[k]), "") for k in ("stdlib", "platstdlib")}
            | {os.path.join(paths[k], "") for k in ("stdlib", "platstdlib")}
        )

    def add_modules(self, names: Iterable[str]) -> None:
        """Treat more top-level modules as library code."""
        new = [n for n in names if n not in self._modules]
        if not new:
            return
        self._modules.update(new)
        self._prefixes = tuple(sorted({*self._prefixes, *_module_roots(new)}))
        self._cache = {}

    def is_library(self, code: CodeType) -> bool:
        """True for Django/asgiref/guard/stdlib/ignored-module code."""
        try:
            return self._cache[code]
        except KeyError:
            pass
        name = code.co_filename
        if name.startswith("<"):
            result = True  # <frozen ...>, <string>: never where the user edits
        elif name.startswith(self._prefixes):
            result = True
        else:
            result = name.startswith(self._stdlib) and not (
                "site-packages" in name or "dist-packages" in name
            )
        self._cache[code] = result
        return result


classifier = Classifier()
# Code of the guard's own entry points (middleware, ASGI wrapper): the stack above them
# belongs to the server or the test client, never to the request's user code.
boundaries: set[CodeType] = set()


def display_path(filename: str) -> str:
    """``filename`` relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if rel.startswith("..") else rel


def location_of(frame: FrameType) -> Location:
    """The report location of one frame."""
    code = frame.f_code
    return Location(
        file=display_path(code.co_filename),
        line=frame.f_lineno,
        function=code.co_qualname,
        is_async=bool(code.co_flags & 0x80),  # CO_COROUTINE
    )


def stack(frame: FrameType | None) -> list[FrameType]:
    """Frames from ``frame`` outwards (innermost first), up to the first boundary."""
    out: list[FrameType] = []
    while frame is not None and len(out) < _MAX_DEPTH and frame.f_code not in boundaries:
        out.append(frame)
        frame = frame.f_back
    return out


def first_user_index(frames: list[FrameType]) -> int | None:
    """Index of the innermost user frame in ``frames`` (a :func:`stack`, innermost first)."""
    is_library = classifier.is_library
    for i, frame in enumerate(frames):
        if not is_library(frame.f_code):
            return i
    return None


def user_location(frame: FrameType | None) -> Location | None:
    """Location of the innermost user frame at or outside ``frame``."""
    is_library = classifier.is_library
    depth = 0
    while frame is not None and depth < _MAX_DEPTH:
        code = frame.f_code
        if code in boundaries:
            return None
        if not is_library(code):
            return location_of(frame)
        frame = frame.f_back
        depth += 1
    return None
