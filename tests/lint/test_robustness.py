"""No crash on any valid Python: unusual syntax, and real-world async code."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asyncorm_lint.engine import SourceError, analyze_module, analyze_source, parse

SYNTAX_ZOO = """
import asyncio
from django.db import models
from .models import Article

type Alias = list[int]

class Point[T]:
    x: T

@decorator(lambda x: x)
class Weird(models.Model, metaclass=Meta):
    match = models.CharField()
    objects: "models.Manager[Weird]" = models.Manager()

    def method(self, /, a, *args, b=1, **kwargs):
        match a:
            case {"k": v, **rest}:
                return self.filter(v=v)
            case [x, *_] if x:
                return None
            case Article(pk=pk):
                return pk
            case _:
                pass

async def view(request, *a, **k):
    global G
    async with asyncio.timeout(1) as t, open("x") as f:
        pass
    try:
        pass
    except* ValueError as eg:
        pass
    x = [y async for y in agen() if await y]
    (z := await Article.objects.aget(pk=1))
    del request.session["x"], z.attr
    lambda: (yield)
    print(f"{x!r:>{10}} {'nested' + f'{x}'}")
    Article.objects.filter(**k)[a:b:c]
    for (i, j), k2 in []:
        pass
    a = b = Article.objects.all()
    a[0], b[1] = 1, 2
    [*Article.objects.all()]
    return await (await Article.objects.aget(pk=1)).arefresh_from_db()

async def agen():
    yield
"""


def test_syntax_zoo_does_not_crash():
    analyze_source(SYNTAX_ZOO, "zoo.py")


def test_unparsable_source_raises_source_error():
    with pytest.raises(SourceError) as exc:
        analyze_source("async def f(:\n    pass\n", "broken.py")
    assert str(exc.value).startswith("broken.py:") and "cannot parse" in str(exc.value)


def _site_packages_async_files() -> list[Path]:
    roots = {Path(p) for p in sys.path if p.endswith("site-packages")}
    files = []
    for root in roots:
        for package in ("django", "asgiref", "anyio", "httpx"):
            base = root / package
            if base.is_dir():
                files += [
                    p for p in base.rglob("*.py") if "async" in p.read_text("utf-8", "replace")
                ]
    return sorted(files)


def test_real_world_async_code_does_not_crash():
    files = _site_packages_async_files()
    assert len(files) > 30, "expected installed packages with async code"
    for path in files:
        source = path.read_text("utf-8")
        try:
            module = parse(source, str(path))
        except SourceError:
            continue
        analyze_module(module, source, str(path))
