"""The write plans, run by the sync driver on Django's own connections, equal Django's sync methods.

The sync driver performs ``BeginAtomic``/``EndAtomic`` with Django's real
``transaction.Atomic`` and ``Send`` with Django's ``Signal.send()``, so this
proves the mirrored orchestration (statements, signals, blocks) on its own,
independently of the async drivers and of the ``Atomic`` mirror.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import F

from asyncorm_native.drivers import django_sync
from asyncorm_native.plans import bulk, delete, lookup_or_create, refresh, related, save

from .compare import Raised, assert_same
from .test_write_differential import SignalLog, snapshot
from .zoo import write_data
from .zoo.models import Hall, Item, Label, Note, Shop, Stage, Supplier, Ticket

Pair = tuple[Callable[[str], Any], Callable[[str], Any]]
run = django_sync.run


def _shop(db: str, name: str = "Lyon") -> Shop:
    return Shop.objects.using(db).get(name=name)


def _m2m(manager: Any) -> tuple[type, Any]:
    return type(manager), manager


PAIRS: dict[str, Pair] = {
    "save_insert": (
        lambda db: (lambda o: (o.save(using=db), o))(Shop(name="Brest")),
        lambda db: (lambda o: (run(save.save(o, using=db)), o))(Shop(name="Brest")),
    ),
    "save_update_fields": (
        lambda db: (lambda o: (setattr(o, "qty", 5), o.save(update_fields=["qty"]), o))(
            Item.objects.using(db).get(name="pear")
        ),
        lambda db: (
            lambda o: (setattr(o, "qty", 5), run(save.save(o, update_fields=["qty"])), o)
        )(Item.objects.using(db).get(name="pear")),
    ),
    "save_mti": (
        lambda db: (lambda o: (o.save(using=db), o))(Stage(name="Arena", seats=9, height=2)),
        lambda db: (lambda o: (run(save.save(o, using=db)), o))(
            Stage(name="Arena", seats=9, height=2)
        ),
    ),
    "create_integrity_error": (
        lambda db: Label.objects.using(db).create(name="red"),
        lambda db: run(save.create(Label.objects.using(db), {"name": "red"})),
    ),
    "update_mti_parent_fields": (
        lambda db: Stage.objects.using(db).update(name="All", height=F("height") + 1),
        lambda db: run(
            delete.update(Stage.objects.using(db), {"name": "All", "height": F("height") + 1})
        ),
    ),
    "delete_cascade": (
        lambda db: _shop(db).delete(),
        lambda db: run(delete.delete_instance(_shop(db), None, False)),
    ),
    "delete_queryset_protected": (
        lambda db: Shop.objects.using(db).delete(),
        lambda db: run(delete.delete_queryset(Shop.objects.using(db))),
    ),
    "bulk_create": (
        lambda db: Label.objects.using(db).bulk_create([Label(name="a"), Label(name="b")]),
        lambda db: run(
            bulk.bulk_create(Label.objects.using(db), [Label(name="a"), Label(name="b")])
        ),
    ),
    "bulk_update": (
        lambda db: Hall.objects.using(db).bulk_update(
            [Hall(pk=h.pk, name=h.name + "!", seats=1) for h in Hall.objects.using(db)],
            ["name", "seats"],
        ),
        lambda db: run(
            bulk.bulk_update(
                Hall.objects.using(db),
                [Hall(pk=h.pk, name=h.name + "!", seats=1) for h in Hall.objects.using(db)],
                ["name", "seats"],
            )
        ),
    ),
    "get_or_create": (
        lambda db: Label.objects.using(db).get_or_create(name="cyan", defaults={"rank": 3}),
        lambda db: run(
            lookup_or_create.get_or_create(
                Label.objects.using(db), {"rank": 3}, {"name": "cyan"}
            )
        ),
    ),
    "update_or_create": (
        lambda db: Label.objects.using(db).update_or_create(name="red", defaults={"rank": 7}),
        lambda db: run(
            lookup_or_create.update_or_create(
                Label.objects.using(db), {"rank": 7}, None, {"name": "red"}
            )
        ),
    ),
    "refresh_fields": (
        lambda db: (lambda o: (o.refresh_from_db(fields=["qty"]), o))(
            Item.objects.using(db).only("name").get(name="fig")
        ),
        lambda db: (lambda o: (run(refresh.refresh_from_db(o, fields=["qty"])), o))(
            Item.objects.using(db).only("name").get(name="fig")
        ),
    ),
    "m2m_add_remove": (
        lambda db: (lambda m: (m.add(Label.objects.using(db).get(name="gold")), m.remove(1)))(
            Item.objects.using(db).get(name="apple").labels
        ),
        lambda db: (
            lambda m: (
                run(related.m2m_add(type(m), m, (Label.objects.using(db).get(name="gold"),), None)),
                run(related.m2m_remove(type(m), m, (1,))),
            )
        )(Item.objects.using(db).get(name="apple").labels),
    ),
    "m2m_set_through_defaults": (
        lambda db: _shop(db, "Nice").suppliers.set(
            Supplier.objects.using(db).filter(name="Core"), through_defaults={"terms": "x"}
        ),
        lambda db: (
            lambda m: run(
                related.m2m_set(
                    type(m),
                    m,
                    Supplier.objects.using(db).filter(name="Core"),
                    False,
                    {"terms": "x"},
                )
            )
        )(_shop(db, "Nice").suppliers),
    ),
    "fk_set": (
        lambda db: _shop(db).tickets.set([Ticket.objects.using(db).get(title="orphan")]),
        lambda db: (
            lambda m: run(
                related.fk_set(
                    type(m), m, [Ticket.objects.using(db).get(title="orphan")], True, False
                )
            )
        )(_shop(db).tickets),
    ),
    "generic_clear_not_bulk": (
        lambda db: _shop(db).notes.clear(bulk=False),
        lambda db: (lambda m: run(related.generic_clear(type(m), m, False)))(_shop(db).notes),
    ),
    "generic_create": (
        lambda db: _shop(db, "Empty").notes.create(text="hi"),
        lambda db: (lambda m: run(related.generic_create(type(m), m, {"text": "hi"})))(
            _shop(db, "Empty").notes
        ),
    ),
}


def outcome(func: Callable[[], Any]) -> Any:
    try:
        return func()
    except Exception as exc:
        return Raised(exc)


def run_pair_side(func: Callable[[str], Any], alias: str, log: SignalLog) -> tuple[Any, ...]:
    write_data.reset(alias)
    log.events.clear()
    result = outcome(lambda: func(alias))
    return result, list(log.events), snapshot(alias)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_sync_driver_write_plan_equals_django(name: str, alias: str) -> None:
    stock, plan = PAIRS[name]
    log = SignalLog()
    try:
        expected = run_pair_side(stock, alias, log)
        got = run_pair_side(plan, alias, log)
    finally:
        log.close()
    assert_same(expected[0], got[0])
    assert expected[1] == got[1]
    assert_same(expected[2], got[2])


_ = Note
