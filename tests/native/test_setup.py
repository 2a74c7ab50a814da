"""Setting up the shim: the setting, the app, install()/uninstall(), ASGI lifespan."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import django
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.db.models import query as django_query
from django.test import override_settings

import asyncorm_native
from asyncorm_native import conf, pools
from asyncorm_native.apps import AsyncormNativeConfig
from asyncorm_native.asgi import with_lifespan

from .zoo.models import Tag

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "must be a dict"),
        ({"INSTAL": True}, r"unknown key\(s\) \['INSTAL'\]"),
        ({"INSTALL": "yes"}, "must be True or False"),
        ({"DATABASES": "default"}, "list of database aliases"),
        ({"POOL": {"max": 3}}, r"unknown option\(s\) \['max'\]"),
        ({"POOL": {"max_size": 0}}, "at least 1"),
        ({"POOL": {"min_size": -1}}, "non-negative int"),
        ({"POOL": {"timeout": 0}}, "positive number"),
        ({"POOLS": {"default": []}}, r"\['POOLS'\]\['default'\] must be a dict"),
    ],
)
def test_bad_settings_are_clear_errors(raw: Any, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        conf.parse(raw)


def test_pool_options_merge_and_check() -> None:
    parsed = conf.parse(
        {"POOL": {"max_size": 5}, "POOLS": {"replica": {"min_size": 2, "max_size": 9}}}
    )
    assert parsed.pool_options("default") == {"min_size": 1, "max_size": 5, "timeout": 30.0}
    assert parsed.pool_options("replica") == {"min_size": 2, "max_size": 9, "timeout": 30.0}
    with pytest.raises(
        ImproperlyConfigured, match="min_size \\(6\\) is larger than max_size \\(5\\)"
    ):
        conf.parse({"POOL": {"min_size": 6, "max_size": 5}}).pool_options("default")


def test_install_swaps_and_uninstall_restores() -> None:
    names = [
        "aget",
        "afirst",
        "alast",
        "aearliest",
        "alatest",
        "acount",
        "aexists",
        "acontains",
        "aaggregate",
        "ain_bulk",
        "aiterator",
        "__aiter__",
    ]
    stock = {name: QuerySet.__dict__[name] for name in names}
    stock_prefetch = django_query.aprefetch_related_objects
    asyncorm_native.install()
    asyncorm_native.install()  # idempotent
    try:
        assert asyncorm_native.is_installed()
        assert all(QuerySet.__dict__[name] is not stock[name] for name in names)
        assert django_query.aprefetch_related_objects is not stock_prefetch
    finally:
        asyncorm_native.uninstall()
    assert not asyncorm_native.is_installed()
    assert all(QuerySet.__dict__[name] is stock[name] for name in names)
    assert django_query.aprefetch_related_objects is stock_prefetch
    assert django.db.models.aprefetch_related_objects is stock_prefetch


def test_install_refuses_other_django_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(django, "VERSION", (6, 0, 0, "final", 0))
    with pytest.raises(ImproperlyConfigured, match=r"follows Django 5\.2's ORM internals"):
        asyncorm_native.install()
    assert not asyncorm_native.is_installed()


@pytest.mark.parametrize("install", [True, False])
def test_app_config_installs_when_asked(install: bool) -> None:
    import asyncorm_native as module

    config = AsyncormNativeConfig("asyncorm_native", module)
    with override_settings(ASYNCORM_NATIVE={"INSTALL": install}):
        try:
            config.ready()
            assert asyncorm_native.is_installed() is install
        finally:
            asyncorm_native.uninstall()


def test_installed_app_installs_at_startup(tmp_path: Path) -> None:
    """A real project: INSTALLED_APPS + ASYNCORM_NATIVE = {"INSTALL": True}, then django.setup()."""
    (tmp_path / "demo_settings.py").write_text(
        textwrap.dedent(
            """
            SECRET_KEY = "x"
            INSTALLED_APPS = ["django.contrib.contenttypes", "asyncorm_native"]
            DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3"}}
            ASYNCORM_NATIVE = {"INSTALL": True}
            """
        )
    )
    script = "import django, asyncorm_native; django.setup(); print(asyncorm_native.is_installed())"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "src")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


async def test_lifespan_shutdown_closes_pools(alias: str, native: None) -> None:
    forwarded: list[str] = []

    async def django_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        forwarded.append(scope["type"])
        if scope["type"] != "http":
            raise ValueError("Django can only handle ASGI/HTTP connections")

    app = with_lifespan(django_app)
    await Tag.objects.using(alias).acount()
    assert alias in pools.stats()
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert pools.stats() == {}
    await app({"type": "http"}, receive, send)
    assert forwarded == ["http"]


async def test_report_lists_pools_and_counts(alias: str, native: None) -> None:
    await Tag.objects.using(alias).acount()
    report = asyncorm_native.report()
    assert report.installed and report.native == {"acount": 1}
    assert report.pools[alias]["vendor"] == {"default": "sqlite", "postgres": "postgresql"}[alias]
    text = str(report)
    assert "acount" in text and f"pool {alias!r}" in text


async def test_debug_query_logging(
    alias: str, native: None, caplog: pytest.LogCaptureFixture
) -> None:
    """With DEBUG, pooled native queries are recorded as Django records its own."""
    import logging

    from django.db import connections

    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connections[alias].queries_log.clear()
    with override_settings(DEBUG=True):
        await Tag.objects.using(alias).filter(name="sf").aexists()
    with override_settings(DEBUG=False):
        await Tag.objects.using(alias).acount()
    (query,) = connections[alias].queries
    assert "zoo_tag" in query["sql"] and float(query["time"]) >= 0
    (record,) = [r for r in caplog.records if r.name == "django.db.backends"]
    assert record.alias == alias and "sf" in record.params and record.sql == query["sql"]


def test_native_methods_have_djangos_signatures() -> None:
    import inspect

    from asyncorm_native import patching

    def shape(function: object) -> list[tuple[object, ...]]:
        parameters = inspect.signature(function).parameters.values()
        return [(p.name, p.kind, p.default) for p in parameters]

    names = [*patching._VALUE_METHODS, "aiterator", "__aiter__"]
    stock = {name: shape(QuerySet.__dict__[name]) for name in names}
    asyncorm_native.install()
    try:
        for name in names:
            assert shape(QuerySet.__dict__[name]) == stock[name], name
            assert QuerySet.__dict__[name].__qualname__ == f"QuerySet.{name}"
    finally:
        asyncorm_native.uninstall()


def test_native_write_methods_have_djangos_signatures() -> None:
    import inspect

    from django.db.models import Model

    from asyncorm_native import writes

    from .zoo.models import Item, Label, Shop

    def shape(function: object) -> list[tuple[object, ...]]:
        parameters = inspect.signature(function).parameters.values()
        return [(p.name, p.kind, p.default) for p in parameters]

    managers = {  # one manager class of each kind: reverse FK (nullable), M2M, generic
        "fk": Shop.tickets.related_manager_cls,
        "m2m": Item.labels.related_manager_cls,
        "m2m reverse": Label.items.related_manager_cls,
        "generic": Shop.notes.related_manager_cls,
    }
    names = ("aadd", "aremove", "aclear", "aset", "acreate", "aget_or_create", "aupdate_or_create")
    stock_model = {name: shape(Model.__dict__[name]) for name in writes.MODEL_METHODS}
    stock_qs = {name: shape(QuerySet.__dict__[name]) for name in writes.QUERYSET_METHODS}
    stock_related = {
        (kind, name): (shape(cls.__dict__[name]), cls.__dict__[name])
        for kind, cls in managers.items()
        for name in names
    }
    asyncorm_native.install()
    try:
        for name in writes.MODEL_METHODS:
            assert shape(Model.__dict__[name]) == stock_model[name], name
            assert Model.__dict__[name].__qualname__ == f"Model.{name}"
        for name in writes.QUERYSET_METHODS:
            assert shape(QuerySet.__dict__[name]) == stock_qs[name], name
        for (kind, name), (stock_shape, stock_function) in stock_related.items():
            native = managers[kind].__dict__[name]
            assert native is not stock_function, (kind, name)
            assert shape(native) == stock_shape, (kind, name)
    finally:
        asyncorm_native.uninstall()
    for (kind, name), (_, stock_function) in stock_related.items():
        assert managers[kind].__dict__[name] is stock_function, (kind, name)


async def test_bad_calls_raise_djangos_type_error(alias: str) -> None:
    async def bad_call() -> str:
        try:
            await Tag.objects.using(alias).all().acontains()
        except TypeError as exc:
            return str(exc)
        raise AssertionError("no TypeError")

    stock = await bad_call()
    asyncorm_native.install()
    try:
        assert await bad_call() == stock
    finally:
        asyncorm_native.uninstall()


def test_package_imports_neither_sibling_nor_django_eagerly() -> None:
    """asyncorm_native depends on neither asyncorm_lint nor runtime_guard; import is light."""
    script = (
        "import sys, pkgutil, importlib, asyncorm_native\n"
        "assert 'django' not in sys.modules, 'import asyncorm_native imported Django'\n"
        "import django; from django.conf import settings; settings.configure(); django.setup()\n"
        "for info in pkgutil.walk_packages(asyncorm_native.__path__, 'asyncorm_native.'):\n"
        "    importlib.import_module(info.name)\n"
        "siblings = ('asyncorm_lint', 'runtime_guard')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in siblings)\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
