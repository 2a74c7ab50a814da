"""Which Django frame names which fact: the table checked against Django's source, and real
ORM calls on the event loop mapped to their DJA code, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import CodeType
from typing import Any

import django
import pytest

from asyncorm_lint.django_api import ALL_FACTS
from runtime_guard import n_plus_one, scope
from runtime_guard.operations import ENTRY_POINTS
from runtime_guard.settings import GuardSettings
from tests.guard.conftest import Blog, RecordCollector

DJANGO_DIR = os.path.dirname(django.__file__)


def qualnames(path: str) -> set[str]:
    """Every function's ``co_qualname`` in a Django source file (nested ones included)."""
    filename = os.path.join(DJANGO_DIR, path)
    with open(filename) as source:
        code = compile(source.read(), filename, "exec")
    names: set[str] = set()
    stack: list[CodeType] = [code]
    while stack:
        current = stack.pop()
        names.add(current.co_qualname)
        stack.extend(c for c in current.co_consts if isinstance(c, CodeType))
    return names


def test_every_entry_point_exists_in_installed_django() -> None:
    missing = []
    by_path: dict[str, set[str]] = {}
    for path, qualname in ENTRY_POINTS:
        names = by_path.setdefault(path, qualnames(path))
        if qualname not in names:
            missing.append(f"{path}: {qualname}")
    assert missing == [], "Django renamed or moved these entry points"


def test_every_entry_point_names_a_fact_from_the_table() -> None:
    facts = {id(f) for f in ALL_FACTS}
    assert all(id(fact) in facts for fact, _ in ENTRY_POINTS.values())
    # the main kinds of the issue are all mapped
    codes = {fact.code for fact, _ in ENTRY_POINTS.values()}
    assert {"DJA101", "DJA201", "DJA208", "DJA301", "DJA401", "DJA501"} <= codes


def test_shape_collapses_parameter_lists_and_skips_transaction_control() -> None:
    one = n_plus_one.shape('SELECT * FROM "t" WHERE "t"."id" IN (%s, %s, %s) LIMIT 21')
    two = n_plus_one.shape('SELECT * FROM "t"\n WHERE "t"."id" IN (%s, %s)   LIMIT 5')
    assert one == two == 'SELECT * FROM "t" WHERE "t"."id" IN (%s, ...) LIMIT ?'
    assert n_plus_one.shape('SAVEPOINT "s1_x1"') is None
    assert n_plus_one.shape("INSERT INTO t VALUES (%s, %s), (%s, %s)") == (
        n_plus_one.shape("INSERT INTO t VALUES (%s, %s), (%s, %s), (%s, %s)")
    )
    assert n_plus_one.shape('SELECT "t2"."id" FROM "t2"') == 'SELECT "t2"."id" FROM "t2"'


class Ctx:
    """What a case may touch: models, a fetched article, one fetched without its title."""

    def __init__(self, models: Any, article: Any, deferred: Any, comment: Any, alias: str):
        self.m, self.a, self.deferred, self.comment, self.alias = (
            models, article, deferred, comment, alias)


def _atomic(c: Ctx) -> None:
    from django.db import transaction

    with transaction.atomic(using=c.alias):
        pass


def _cases() -> list[tuple[str, str, str, Callable[[Ctx], Any]]]:
    """(id, code, operation name, sync call made on the event loop)."""
    from django.core.paginator import Paginator
    from django.db import connections
    from django.db.models import prefetch_related_objects
    from django.shortcuts import get_object_or_404

    return [
        ("first", "DJA101", "QuerySet.first", lambda c: c.m.Article.objects.first()),
        ("for", "DJA201", "QuerySet evaluation (for)",
         lambda c: [x for x in c.m.Article.objects.all()]),
        ("list", "DJA202", "QuerySet evaluation (list)", lambda c: list(c.m.Article.objects.all())),
        ("in", "DJA206", "QuerySet evaluation (contains)",
         lambda c: c.a in c.m.Article.objects.all()),
        ("len", "DJA203", "QuerySet evaluation (len)", lambda c: len(c.m.Article.objects.all())),
        ("bool", "DJA204", "QuerySet evaluation (bool)", lambda c: bool(c.m.Article.objects.all())),
        ("index", "DJA205", "QuerySet evaluation (getitem)",
         lambda c: c.m.Article.objects.all()[0]),
        ("repr", "DJA209", "QuerySet evaluation (repr)", lambda c: repr(c.m.Article.objects.all())),
        ("get_object_or_404", "DJA102", "get_object_or_404",
         lambda c: get_object_or_404(c.m.Article, pk=c.a.pk)),
        ("prefetch", "DJA103", "prefetch_related_objects",
         lambda c: prefetch_related_objects([c.a], "comments")),
        ("delete", "DJA302", "Model.delete", lambda c: c.comment.delete()),
        ("related count", "DJA101", "QuerySet.count", lambda c: c.a.comments.count()),
        ("related create", "DJA304", "related manager create",
         lambda c: c.a.comments.create(text="again")),
        ("deferred", "DJA403", "deferred field Article.title", lambda c: c.deferred.title),
        ("cursor", "DJA802", "connection.cursor", lambda c: connections[c.alias].cursor()),
        ("atomic", "DJA801", "transaction.atomic", _atomic),
        ("paginator", "DJA803", "Paginator",
         lambda c: Paginator(c.m.Article.objects.order_by("id"), 2).page(1)),
    ]


@pytest.mark.parametrize("case", _cases(), ids=[c[0] for c in _cases()])
async def test_sync_call_on_loop_maps_to_its_fact(
    blog: Blog, installed: None, guard_log: RecordCollector, case
) -> None:
    from guard_app import models

    _, code, operation, call = case
    pk = blog.articles[0]
    ctx = Ctx(
        models,
        await models.Article.objects.aget(pk=pk),
        await models.Article.objects.only("id").aget(pk=pk),
        await models.Comment.objects.filter(article_id=pk).afirst(),
        blog.alias,
    )
    guarded = scope.GuardScope(GuardSettings(mode="log"), "manual", "request")
    with scope.activate(guarded):
        call(ctx)
    records = guard_log.of_kind("violation")
    assert [(r.code, r.operation) for r in records] == [(code, operation)]
    assert records[0].file.endswith("test_operations.py")
    assert records[0].function.rsplit(".", 1)[-1] in ("<lambda>", "<listcomp>", "_atomic")
