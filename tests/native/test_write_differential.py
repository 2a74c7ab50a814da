"""Every write method, natively and through Django's stock a-methods: same rows, same signals.

Each case of ``write_cases.py`` runs on SQLite and on PostgreSQL, twice, from
the same freshly reloaded write zoo (sequences restarted): once with the shim
uninstalled, once installed. Compared structurally (``compare.assert_same``):
the returned value or raised exception (type and message), every model signal
in order with its arguments (sync and async receivers), and every row of the
write zoo's tables afterwards (primary keys included). The native run must
really be native: the case's method ran natively and nothing fell back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db.models import signals

import asyncorm_native

from .compare import Raised, assert_same
from .write_cases import WRITE_CASES
from .zoo import write_data

SIGNALS = {
    "pre_save": signals.pre_save,
    "post_save": signals.post_save,
    "pre_delete": signals.pre_delete,
    "post_delete": signals.post_delete,
    "m2m_changed": signals.m2m_changed,
}
WRITE_MODELS = set(write_data.WRITE_MODELS)


def describe(name: str, sender: Any, kwargs: dict[str, Any], kind: str) -> tuple[Any, ...]:
    instance = kwargs.get("instance")
    details = []
    for key in ("created", "raw", "using", "action", "reverse"):
        if key in kwargs:
            details.append((key, kwargs[key]))
    if kwargs.get("update_fields") is not None:
        details.append(("update_fields", sorted(kwargs["update_fields"])))
    if "pk_set" in kwargs:
        pk_set = kwargs["pk_set"]
        details.append(("pk_set", None if pk_set is None else sorted(pk_set)))
    if "model" in kwargs:
        details.append(("model", kwargs["model"].__name__))
    if "origin" in kwargs:
        details.append(("origin", type(kwargs["origin"]).__name__))
    return (
        kind,
        name,
        sender.__name__,
        type(instance).__name__,
        getattr(instance, "pk", None),
        tuple(details),
    )


class SignalLog:
    """Sync and async receivers on every model signal, recording what write-zoo senders send."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._receivers: list[tuple[Any, Any]] = []
        for name, signal in SIGNALS.items():

            def sync_receiver(sender: Any, name: str = name, **kwargs: Any) -> None:
                if sender in WRITE_MODELS:
                    self.events.append(describe(name, sender, kwargs, "sync"))

            async def async_receiver(sender: Any, name: str = name, **kwargs: Any) -> None:
                if sender in WRITE_MODELS:
                    self.events.append(describe(name, sender, kwargs, "async"))

            signal.connect(sync_receiver, weak=False)
            signal.connect(async_receiver, weak=False)
            self._receivers += [(signal, sync_receiver), (signal, async_receiver)]

    def close(self) -> None:
        for signal, receiver in self._receivers:
            signal.disconnect(receiver)


@pytest.fixture
def signal_log() -> Iterator[SignalLog]:
    log = SignalLog()
    try:
        yield log
    finally:
        log.close()


def snapshot(alias: str) -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model.objects.using(alias).order_by("pk").values())
        for model in write_data.WRITE_MODELS
    }


async def run_case(func: Any, alias: str, log: SignalLog) -> tuple[Any, list[Any], Any]:
    await sync_to_async(write_data.reset)(alias)
    log.events.clear()
    try:
        result = await func(alias)
    except Exception as exc:
        result = Raised(exc)
    events = list(log.events)
    rows = await sync_to_async(snapshot)(alias)
    return result, events, rows


@pytest.mark.parametrize("name", sorted(WRITE_CASES))
async def test_native_write_equals_stock(name: str, alias: str, signal_log: SignalLog) -> None:
    method, func = WRITE_CASES[name]
    stock = await run_case(func, alias, signal_log)
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        native = await run_case(func, alias, signal_log)
        report = asyncorm_native.report()
    finally:
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()
    assert_same(stock[0], native[0])
    assert stock[1] == native[1], f"signals differ:\nstock  {stock[1]}\nnative {native[1]}"
    assert_same(stock[2], native[2])
    assert report.native.get(method, 0) > 0, f"{method} did not run natively:\n{report}"
    assert report.fallback_total == 0, f"unexpected fallback:\n{report}"


def test_write_cases_cover_every_native_write_method() -> None:
    from asyncorm_native.writes import MODEL_METHODS, QUERYSET_METHODS

    covered = {method for method, _ in WRITE_CASES.values()}
    expected = {f"Model.{name}" for name in MODEL_METHODS} | set(QUERYSET_METHODS)
    expected |= {"Model.aclean_fields", "Model.avalidate_unique", "Model.avalidate_constraints"}
    from asyncorm_native.related_managers import _NAMES

    for manager in ("RelatedManager", "ManyRelatedManager", "GenericRelatedObjectManager"):
        expected |= {f"{manager}.{name}" for name in _NAMES}
    assert expected <= covered, expected - covered
